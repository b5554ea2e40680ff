/**
 * The client daemon: device enrolment in a home folder, attachment to a supernode with jittered
 * exponential backoff, direct QUIC sessions to peers (routed and end-to-end sealed through the
 * supernode when there is none), conversation push and sync with up to 15 replicas ({@link org.parley.client.ChatSync}
 * over the {@code chat} module's replica and store), certificate renewal,
 * and the token-guarded local HTTP API on 127.0.0.1 that the CLI (and later the web UI and bots) use.
 */
package org.parley.client;

/**
 * The client daemon: device enrolment in a home folder, attachment to a supernode with jittered
 * exponential backoff, direct QUIC sessions to peers (routed and end-to-end sealed through the
 * supernode when there is none), the durable SQLite message store and outbox, certificate renewal,
 * and the token-guarded local HTTP API on 127.0.0.1 that the CLI (and later the web UI and bots) use.
 */
package org.parley.client;

/**
 * The supernode: admits client attachments over QUIC up to its capacity (redirecting beyond it, never
 * shutting down), holds directory records of attached devices behind {@link org.parley.supernode.Directory},
 * answers lookups, routes opaque sealed payloads and presence between clients, tells each client its
 * observed UDP address, and renews its own certificate before it expires.
 */
package org.parley.supernode;

/**
 * Conversations as signed event DAGs: {@link org.parley.chat.Conversation} (validation of an event against its
 * causal past: structure, parents, time, membership and permission; heads; read positions),
 * {@link org.parley.chat.MemberState} (membership at a causal position), {@link org.parley.chat.CertificateBook}
 * (author certificates and signatures), {@link org.parley.chat.ChatReplica} (one device's replica: author, receive,
 * views) and the durable {@link org.parley.chat.EventStore} ({@link org.parley.chat.SqliteEventStore}). No network
 * and no threads of its own: the client daemon moves bytes; time comes from an injected {@code Clock} and
 * {@code HybridClock}, so the same code runs in property tests and in the daemon.
 */
package org.parley.chat;

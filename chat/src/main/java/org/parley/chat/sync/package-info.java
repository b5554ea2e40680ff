/**
 * Range-based set reconciliation of conversation event sets (in the manner of Negentropy): sorted
 * {@link org.parley.chat.sync.SyncItems} with constant-time range fingerprints and the stateless
 * {@link org.parley.chat.sync.RangeReconciler}; the message format is {@link org.parley.protocol.ReconcileMessage}.
 * Pure logic, no I/O.
 */
package org.parley.chat.sync;

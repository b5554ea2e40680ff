/**
 * The directory overlay's pure logic: Kademlia among supernodes ({@link org.parley.overlay.OverlayNode},
 * {@link org.parley.overlay.RoutingTable}), the signed soft-state record store
 * ({@link org.parley.overlay.RecordStore}), the client-facing directory service with admission control
 * ({@link org.parley.overlay.DirectoryService}, {@link org.parley.overlay.Admission}), the clients' persistent
 * host cache and attach order ({@link org.parley.overlay.HostCache}) and promotion rules
 * ({@link org.parley.overlay.Promotion}). No sockets, threads or wall clock: time and timers come through
 * {@link org.parley.overlay.Scheduler}, messages leave through {@link org.parley.overlay.OverlayNet}, and
 * randomness is injected, so the same code runs in the supernode and in the deterministic simulator.
 * Callers must invoke one node's methods from one thread (the simulator's loop, or the supernode's overlay
 * executor).
 */
package org.parley.overlay;

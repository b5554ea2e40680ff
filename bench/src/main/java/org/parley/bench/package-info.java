/**
 * Benchmarks of Parley, run with {@code bench/run.sh} (main class {@link org.parley.bench.Bench}).
 *
 * <ul>
 *   <li><b>attach</b>: a supernode in its own JVM process; N lightweight bench clients (one QuicNode each, on
 *       one shared event loop group, certificates issued directly by the network CA) attach with a bounded
 *       number of handshakes in flight. Reports attaches/s, attach latency and the supernode's heap per
 *       attached client (jcmd GC.run / GC.heap_info).</li>
 *   <li><b>route</b>: pairs of attached bench clients exchange sealed round trips through the supernode
 *       (Route, Deliver, reply Route, Deliver) at several concurrency levels.</li>
 *   <li><b>e2e</b>: real client daemons ({@link org.parley.app.DemoNetwork}), send to delivered
 *       acknowledgement, direct and relayed.</li>
 *   <li><b>baseline-xmpp</b>: the same message/reply round trip through Debian's ejabberd, driven by a minimal
 *       XMPP client ({@link org.parley.bench.XmppClient}); skipped when ejabberd is not installed.</li>
 * </ul>
 * Every scenario prints tables and appends JSON lines to {@code bench/target/results.jsonl}. All traffic is
 * on loopback; every run is bounded in count and time; spawned processes and temporary folders are removed
 * on exit.
 */
package org.parley.bench;

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
 *   <li><b>relay</b>: the supernode's UDP relay ({@code UdpRelay}) in its own JVM under a load generator:
 *       forwarded datagrams/s, MB/s, relay CPU, added round-trip time; the same against coturn when
 *       installed.</li>
 *   <li><b>natlab</b>: the NAT lab ({@link org.parley.bench.NatLab}, needs root): time to first message and
 *       to a ready peer session for every NAT pair over repeated rounds on cold NAT state.</li>
 *   <li><b>direct</b>: throughput of a direct peer session on loopback next to iperf3.</li>
 * </ul>
 * {@link org.parley.bench.NatLab} also drives the NAT lab test suite. Every scenario prints tables and appends JSON lines to {@code bench/target/results.jsonl}. All traffic is
 * on loopback; every run is bounded in count and time; spawned processes and temporary folders are removed
 * on exit.
 */
package org.parley.bench;

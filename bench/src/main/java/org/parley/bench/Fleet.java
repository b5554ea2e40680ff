package org.parley.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/** N bench clients on one shared event loop group, with their keepalive. */
final class Fleet implements AutoCloseable {
    private static final int PING_TICKS = 80;
    final List<BenchClient> clients;
    final double issueSeconds;
    final double bindSeconds;
    private final EventLoopGroup group;
    private final ScheduledExecutorService timer;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Fleet(List<BenchClient> clients, EventLoopGroup group, double issueSeconds, double bindSeconds) {
        this.clients = clients;
        this.group = group;
        this.issueSeconds = issueSeconds;
        this.bindSeconds = bindSeconds;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-keepalive");
            t.setDaemon(true);
            return t;
        });
        // The supernode asks for a ping every 10 s and QUIC idles out after 30 s: every client pings every 8 s,
        // spread evenly over the interval like independent clients (a burst of N pings overflows the supernode's
        // UDP receive buffer, and connections whose packets keep being dropped idle out).
        timer.scheduleAtFixedRate(new Runnable() {
            private int tick;

            @Override
            public void run() {
                int t = tick++ % PING_TICKS;
                for (int i = t; i < clients.size(); i += PING_TICKS) clients.get(i).ping();
            }
        }, 100, 8000 / PING_TICKS, TimeUnit.MILLISECONDS);
    }

    /** Issues certificates for {@code n} users named PREFIX0..PREFIXn-1 and binds their nodes. */
    static Fleet create(BenchNetwork net, int n, String prefix, int threads) throws Exception {
        long t0 = System.nanoTime();
        List<BenchNetwork.Identity> ids = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()))) {
            List<CompletableFuture<BenchNetwork.Identity>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String user = prefix + i;
                fs.add(CompletableFuture.supplyAsync(() -> net.issue(user), ex));
            }
            for (var f : fs) ids.add(f.join());
        }
        double issue = (System.nanoTime() - t0) / 1e9;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<BenchClient> clients = new ArrayList<>(n);
        long t1 = System.nanoTime();
        try {
            for (BenchNetwork.Identity id : ids) clients.add(BenchClient.bind(id, net.newVerifier(), group, registry));
        } catch (Exception e) {
            clients.forEach(BenchClient::close);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        long distinct = clients.stream().mapToInt(BenchClient::localPort).distinct().count();
        if (distinct < clients.size()) {
            System.out.printf("  note: %d of %d bench clients got a UDP port that another bench client already uses%n",
                    clients.size() - distinct, clients.size());
        }
        return new Fleet(List.copyOf(clients), group, issue, (System.nanoTime() - t1) / 1e9);
    }

    record AttachStats(Histogram micros, double wallSeconds, int attached, int failedFirstTry, List<String> errors) {}

    /**
     * Attaches every client with at most {@code concurrency} attaches in flight. Latency (dial start to Welcome)
     * of first attempts goes into the histogram; failures are retried up to twice (not timed).
     */
    AttachStats attachAll(InetSocketAddress supernode, int concurrency) throws InterruptedException {
        Histogram h = new ConcurrentHistogram(3);
        Semaphore inFlight = new Semaphore(concurrency);
        List<BenchClient> failed = Collections.synchronizedList(new ArrayList<>());
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(clients.size());
        long t0 = System.nanoTime();
        for (BenchClient c : clients) {
            inFlight.acquire();
            c.attach(supernode, Duration.ofSeconds(15)).whenComplete((nanos, t) -> {
                if (t == null) {
                    h.recordValue(Math.max(1, nanos / 1000));
                } else {
                    failed.add(c);
                    if (errors.size() < 5) errors.add(rootMessage(t));
                }
                inFlight.release();
                done.countDown();
            });
        }
        done.await();
        double wall = (System.nanoTime() - t0) / 1e9;
        int failedFirst = failed.size();
        for (int round = 0; round < 2 && !failed.isEmpty(); round++) {
            List<BenchClient> again = new ArrayList<>(failed);
            failed.clear();
            CountDownLatch d2 = new CountDownLatch(again.size());
            for (BenchClient c : again) {
                c.detach();
                inFlight.acquire();
                c.attach(supernode, Duration.ofSeconds(15)).whenComplete((nanos, t) -> {
                    if (t != null) failed.add(c);
                    inFlight.release();
                    d2.countDown();
                });
            }
            d2.await();
        }
        int attached = (int) clients.stream().filter(BenchClient::attached).count();
        return new AttachStats(h, wall, attached, failedFirst, List.copyOf(errors));
    }

    static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /** The attached clients, in order. */
    List<BenchClient> attachedClients() {
        return clients.stream().filter(BenchClient::attached).toList();
    }

    /** Closes every client (in parallel) and the event loop group; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        timer.shutdownNow();
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            for (BenchClient c : clients) ex.execute(c::close);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10_000);
    }
}

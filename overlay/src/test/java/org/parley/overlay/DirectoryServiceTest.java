package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.parley.overlay.DirectoryService.AttachDecision;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.OverlayContact;

class DirectoryServiceTest {
    static final String ME = "me.test:7000";
    final VirtualClock clock = new VirtualClock(1_700_000_000_000L);
    final Random rnd = new Random(42);
    final List<Frame> outbox = new ArrayList<>();

    DirectoryService service(AdmissionConfig cfg, List<String> seeds) {
        DirectoryService ds = new DirectoryService(new Admission(cfg, new Random(7), clock.now()), clock, new Random(8), seeds);
        OverlayNode node = new OverlayNode(NodeId.random(rnd), ME, OverlayConfig.defaults(), (to, f) -> outbox.add(f), clock,
                new Random(9), FakePki.validator(clock::now), ds);
        ds.bind(node);
        return ds;
    }

    /** Makes the service's overlay node meet a supernode with the given load (it pings us). */
    OverlayContact meet(DirectoryService ds, String address, int capacity, int load, int bucket) {
        NodeId id = ds.overlay().id().randomInBucket(bucket, rnd);
        OverlayContact c = new OverlayContact(id.bytes(), address, capacity, load, 3600);
        ds.overlay().onMessage(new Frame.OverlayPing(rnd.nextLong(), c));
        assertThat(ds.overlay().table().contains(id)).isTrue();
        return c;
    }

    static int retryAfter(AttachDecision d) {
        return ((AttachDecision.Redirect) d).retryAfterMillis();
    }

    @Test
    void admitsUpToCapacityThenRedirectsToOthersWithSpareRoom() {
        DirectoryService ds = service(AdmissionConfig.defaults().withMaxClients(5).withAttachesPerSecond(1000),
                List.of(ME, "seed1.test:7000", "seed2.test:7000"));
        meet(ds, "full.test:7000", 100, 100, 255);
        meet(ds, "roomy.test:7000", 1000, 10, 254);
        meet(ds, "some.test:7000", 100, 50, 253);
        OverlayContact failing = meet(ds, "failing.test:7000", 1000, 0, 252);
        ds.overlay().table().failed(NodeId.of(failing.id()));
        assertThat(ds.capacity()).isEqualTo(5);
        for (int i = 0; i < 5; i++) {
            AttachDecision d = ds.attach("dev" + i);
            assertThat(d).isInstanceOf(AttachDecision.Admit.class);
            assertThat(((AttachDecision.Admit) d).supernodes()).doesNotContain(ME).doesNotHaveDuplicates();
        }
        assertThat(ds.attached()).isEqualTo(5);
        assertThat(ds.load()).isEqualTo(5);
        for (int i = 5; i < 50; i++) {
            AttachDecision d = ds.attach("dev" + i);
            assertThat(d).isInstanceOf(AttachDecision.Redirect.class);
            AttachDecision.Redirect r = (AttachDecision.Redirect) d;
            assertThat(r.reason()).contains("capacity").doesNotContain("\n");
            assertThat(r.alternatives()).doesNotContain(ME, "full.test:7000", "failing.test:7000").doesNotHaveDuplicates()
                    .contains("roomy.test:7000", "some.test:7000")
                    .hasSizeLessThanOrEqualTo(8);
            // overlay contacts with room come before the seeds
            assertThat(r.alternatives().subList(0, 2)).containsExactlyInAnyOrder("roomy.test:7000", "some.test:7000");
            assertThat(r.alternatives()).endsWith("seed1.test:7000", "seed2.test:7000");
            // a full node asks for a longer pause, jittered
            assertThat(r.retryAfterMillis()).isBetween(2500, 5000);
        }
        assertThat(ds.attached()).isEqualTo(5);
        assertThat(ds.admission().redirects()).isEqualTo(45);
        assertThat(ds.admission().peakClients()).isEqualTo(5);
        ds.detach("dev0");
        assertThat(ds.attach("dev5")).isInstanceOf(AttachDecision.Admit.class);
        assertThat(ds.attached()).isEqualTo(5);
    }

    @Test
    void redirectsAreSpreadByJitter() {
        DirectoryService ds = service(AdmissionConfig.defaults().withMaxClients(1), List.of());
        ds.attach("in");
        Set<Integer> delays = new HashSet<>();
        for (int i = 0; i < 200; i++) delays.add(retryAfter(ds.attach("out" + i)));
        assertThat(delays).hasSizeGreaterThan(150);
    }

    @Test
    void alternativesFavourSpareCapacityAndNeverNameThisNode() {
        DirectoryService ds = service(AdmissionConfig.defaults(), List.of(ME, "seed.test:7000"));
        assertThat(ds.alternatives(8)).containsExactly("seed.test:7000");
        meet(ds, "big.test:7000", 1000, 100, 255);   // 900 spare
        meet(ds, "small.test:7000", 1000, 900, 254); // 100 spare
        meet(ds, "none.test:7000", 1000, 1000, 253); // none
        Map<String, Integer> first = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            List<String> alt = ds.alternatives(1);
            assertThat(alt).hasSize(1);
            first.merge(alt.get(0), 1, Integer::sum);
        }
        assertThat(first).doesNotContainKeys("none.test:7000", ME, "seed.test:7000");
        // drawn with weight on spare slots: about 9 to 1
        assertThat(first.get("big.test:7000")).isBetween(2500, 2900);
        assertThat(first.get("small.test:7000")).isBetween(100, 500);
        assertThat(ds.alternatives(8)).containsExactlyInAnyOrder("big.test:7000", "small.test:7000", "seed.test:7000");
        assertThat(ds.alternatives(0)).isEmpty();
        // no overlay bound yet: the seeds (there is no "self" to leave out)
        DirectoryService unbound = new DirectoryService(new Admission(AdmissionConfig.defaults(), rnd, 0), clock, rnd,
                List.of("a:1", "b:1"));
        assertThat(unbound.alternatives(1)).containsExactly("a:1");
    }

    @Test
    void attachRateBucketPacesBursts() {
        DirectoryService ds = service(AdmissionConfig.defaults().withAttachesPerSecond(10), List.of("seed.test:7000"));
        int admitted = 0;
        for (int i = 0; i < 100; i++) {
            AttachDecision d = ds.attach("burst" + i);
            if (d instanceof AttachDecision.Admit) {
                admitted++;
            } else {
                AttachDecision.Redirect r = (AttachDecision.Redirect) d;
                assertThat(r.reason()).contains("pacing").contains("10/s");
                assertThat(r.retryAfterMillis()).isBetween(500, 1100); // nearly empty node: about a second
                assertThat(r.alternatives()).containsExactly("seed.test:7000");
            }
        }
        assertThat(admitted).as("a cold start admits one second's worth").isEqualTo(10);
        // a steady storm: 100 attempts per second for 10 s admits the rate, not more
        int steady = 0;
        for (int t = 0; t < 1000; t++) {
            clock.advance(10);
            if (ds.attach("storm" + t) instanceof AttachDecision.Admit) steady++;
        }
        assertThat(steady).isBetween(99, 101);
        // after a quiet spell the bucket holds at most two seconds' worth
        clock.advance(60_000);
        int burst = 0;
        for (int i = 0; i < 100; i++) if (ds.attach("again" + i) instanceof AttachDecision.Admit) burst++;
        assertThat(burst).isEqualTo(20);
        assertThat(ds.attached()).isEqualTo(admitted + steady + burst);
    }

    @Test
    void lookupsOverTheRateAreBusy() {
        DirectoryService ds = service(AdmissionConfig.defaults().withLookupsPerSecond(5), List.of(ME, "seed.test:7000"));
        meet(ds, "other.test:7000", 100, 0, 255);
        List<OverlayNode.LookupResult> results = new ArrayList<>();
        for (int i = 0; i < 5; i++) assertThat(ds.resolve("user" + i, results::add)).isNull();
        DirectoryService.Busy busy = ds.resolve("one-too-many", results::add);
        assertThat(busy).isNotNull();
        assertThat(busy.reason()).contains("lookup capacity").contains("5/s").doesNotContain("\n");
        assertThat(busy.retryAfterMillis()).isBetween(500, 5000);
        assertThat(busy.alternatives()).doesNotContain(ME).contains("other.test:7000").hasSizeLessThanOrEqualTo(4);
        assertThat(ds.busyCount()).isEqualTo(1);
        assertThat(ds.resolvedCount()).isEqualTo(5);
        // the refused lookup never reached the overlay
        clock.runFor(OverlayConfig.defaults().lookupDeadlineMillis());
        assertThat(results).hasSize(5).extracting(OverlayNode.LookupResult::user).doesNotContain("one-too-many");
        // tokens come back with time (the deadline above was long enough for a full bucket of 10)
        int ok = 0;
        for (int i = 0; i < 20; i++) if (ds.resolve("later" + i, r -> { }) == null) ok++;
        assertThat(ok).isEqualTo(10);
        clock.advance(200);
        assertThat(ds.resolve("after-200ms", r -> { })).isNull();
        assertThat(ds.resolve("and-again", r -> { })).isNotNull();
    }

    @Test
    void neverDropsAdmittedClientsUnderAStorm() {
        DirectoryService ds = service(AdmissionConfig.defaults().withMaxClients(50).withAttachesPerSecond(20), List.of());
        Set<String> in = new HashSet<>();
        Random r = new Random(3);
        for (int t = 0; t < 5000; t++) {
            clock.advance(1);
            String dev = "d" + r.nextInt(400);
            AttachDecision d = ds.attach(dev);
            if (in.contains(dev)) assertThat(d).as("re-hello of admitted %s", dev).isInstanceOf(AttachDecision.Admit.class);
            if (d instanceof AttachDecision.Admit) in.add(dev);
            if (t % 97 == 0 && !in.isEmpty()) { // now and then a client leaves on its own
                String gone = in.iterator().next();
                ds.detach(gone);
                in.remove(gone);
            }
            assertThat(ds.attached()).isEqualTo(in.size()).isLessThanOrEqualTo(50);
        }
        assertThat(in).hasSizeGreaterThan(40);
        assertThat(ds.admission().redirects()).isPositive();
    }

    @Test
    void reHelloOfAnAttachedDeviceIsAdmittedWithoutCountingTwice() {
        DirectoryService ds = service(new AdmissionConfig(2, 1, 100, 1000), List.of());
        assertThat(ds.attach("d1")).isInstanceOf(AttachDecision.Admit.class);
        assertThat(ds.attach("d1")).isInstanceOf(AttachDecision.Admit.class);
        assertThat(ds.attached()).isEqualTo(1);
        // the re-hello did not take the attach token of this second: a new device is paced
        AttachDecision d2 = ds.attach("d2");
        assertThat(d2).isInstanceOf(AttachDecision.Redirect.class);
        assertThat(((AttachDecision.Redirect) d2).reason()).contains("pacing");
        clock.advance(1000);
        assertThat(ds.attach("d2")).isInstanceOf(AttachDecision.Admit.class);
        clock.advance(10_000);
        // full: still a welcome for those already in
        assertThat(ds.attach("d3")).isInstanceOf(AttachDecision.Redirect.class);
        assertThat(ds.attach("d1")).isInstanceOf(AttachDecision.Admit.class);
        assertThat(ds.attach("d2")).isInstanceOf(AttachDecision.Admit.class);
        assertThat(ds.attached()).isEqualTo(2);
        assertThat(ds.admission().peakClients()).isEqualTo(2);
    }

    @Test
    void relaySessionsAreRefusedAboveTheBandwidth() {
        Admission a = new Admission(AdmissionConfig.defaults().withRelayBytesPerSecond(1000), rnd, 0);
        assertThat(a.allowRelay(0)).isTrue();
        assertThat(a.allowRelay(999)).isTrue();
        assertThat(a.allowRelay(1000)).isFalse();
        assertThat(a.busy()).isEqualTo(1);
        assertThat(new Admission(AdmissionConfig.defaults().withRelayBytesPerSecond(0), rnd, 0).allowRelay(0)).isFalse();
    }

    @Test
    void retryAfterGrowsWithFillAndStaysInRange() {
        Admission a = new Admission(AdmissionConfig.defaults().withMaxClients(100), rnd, 0);
        for (int i = 0; i < 500; i++) {
            assertThat(a.retryAfterMillis(0)).isBetween(500, 1000);
            assertThat(a.retryAfterMillis(100)).isBetween(2500, 5000);
            assertThat(a.retryAfterMillis(10_000)).isBetween(2500, 5000); // over-full does not explode
        }
        double empty = 0, full = 0;
        for (int i = 0; i < 500; i++) {
            empty += a.retryAfterMillis(0);
            full += a.retryAfterMillis(100);
        }
        assertThat(full).isGreaterThan(3 * empty);
    }

    @Test
    void publishesThroughTheOverlayAndCountsOutcomes() {
        DirectoryService ds = service(AdmissionConfig.defaults(), List.of());
        DeviceRecord good = FakePki.record("alice", "0".repeat(31) + "1", 1, clock.now() + 60_000, "192.0.2.1:1");
        List<Integer> acks = new ArrayList<>();
        ds.publish(good, acks::add);
        clock.runFor(100);
        assertThat(acks).containsExactly(1); // alone in the overlay: this node is the only holder
        assertThat(ds.overlay().store().get("alice", clock.now())).containsExactly(good);
        ds.publish(FakePki.tampered(FakePki.record("bob", "0".repeat(31) + "2", 1, clock.now() + 60_000, "x:1"), "y:1"), acks::add);
        clock.runFor(100);
        assertThat(acks).containsExactly(1, 0);
        assertThat(ds.publishedCount()).isEqualTo(1);
        assertThat(ds.publishFailures()).isEqualTo(1);
        assertThat(ds.overlay().store().lastRejection()).isEqualTo("bad signature");
    }
}

package org.parley.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.parley.overlay.NodeId;
import org.parley.overlay.OverlayNode;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Frame;
import org.parley.protocol.Limits;
import org.parley.protocol.OverlayContact;

/** A record altered after signing is refused by every honest supernode and never comes back from a lookup. */
class TamperedRecordTest {
    private static Simulation upAndRunning() {
        Simulation sim = new Simulation(SimConfig.of(40, 400, 11).withClientStart(60_000, 30_000).withJoinSpreadMillis(30_000));
        sim.bringUp();
        sim.runUntil(150_000);
        return sim;
    }

    private static DeviceRecord currentRecord(Simulation sim, ClientShell c) {
        List<DeviceRecord> found = new ArrayList<>();
        sim.liveSupernodes().get(0).node().findUser(c.user, r -> found.addAll(r.records()));
        sim.runUntil(sim.elapsed() + 6_000);
        assertThat(found).as("the genuine record is found").isNotEmpty();
        return found.get(0);
    }

    private static DeviceRecord tamper(DeviceRecord r) {
        // a supernode claims the device moved to it, with a higher sequence, keeping the old signature
        return new DeviceRecord(r.deviceId(), r.user(), r.presence(), "203.0.113.66:41641", r.localAddresses(),
                r.certificate(), r.sinceMillis(), List.of("evil.example:7700"), r.capabilities(), r.sequence() + 100,
                r.expiresAtMillis(), r.signature());
    }

    @Test
    void theValidatorChecksSignatureAndExpiry() {
        Simulation sim = upAndRunning();
        ClientShell c = sim.client(3);
        DeviceRecord good = currentRecord(sim, c);
        RecordSigner v = sim.signer();
        assertThat(v.check(good)).isNull();
        assertThat(v.check(tamper(good))).isEqualTo("bad signature");
        long now = sim.engine().now();
        DeviceRecord tooLong = v.sign(new DeviceRecord(good.deviceId(), good.user(), "online", "x:1", List.of(),
                Simulation.FAKE_CERTIFICATE, now, List.of(), List.of(), 99, now + Limits.MAX_RECORD_TTL_MILLIS + 1, null));
        assertThat(v.check(tooLong)).isEqualTo("expiry too far ahead");
        DeviceRecord expired = v.sign(new DeviceRecord(good.deviceId(), good.user(), "online", "x:1", List.of(),
                Simulation.FAKE_CERTIFICATE, now, List.of(), List.of(), 99, now, null));
        assertThat(v.check(expired)).isEqualTo("expired");
        // a copy equal in content (as a decoded frame would be) passes the full check
        DeviceRecord copy = new DeviceRecord(good.deviceId(), good.user(), good.presence(), good.observedAddress(),
                good.localAddresses(), good.certificate().clone(), good.sinceMillis(), good.supernodes(), good.capabilities(),
                good.sequence(), good.expiresAtMillis(), good.signature().clone());
        assertThat(v.check(copy)).isNull();
    }

    @Test
    void aTamperedRecordStoredEverywhereIsRejectedAndNeverReturned() {
        Simulation sim = upAndRunning();
        ClientShell victim = sim.client(7);
        DeviceRecord good = currentRecord(sim, victim);
        DeviceRecord bad = tamper(good);
        long rejectedBefore = 0;
        for (SupernodeShell s : sim.liveSupernodes()) rejectedBefore += s.node().store().rejected();
        // a rogue supernode whose id is the victim's key (so every lookup for the victim asks it), accepting anything
        SupernodeShell rogue = sim.addSupernodeWith(NodeId.forUser(victim.user), r -> null);
        sim.runUntil(sim.elapsed() + 10_000);
        assertThat(rogue.node().store().put(bad)).isEqualTo(org.parley.overlay.RecordStore.Outcome.STORED);
        // ... and which pushes it to every honest supernode
        OverlayContact fake = rogue.node().contact();
        for (SupernodeShell s : sim.liveSupernodes()) {
            if (s != rogue) sim.links().send(rogue, s, new Frame.Store(0, fake, List.of(bad)));
        }
        sim.runUntil(sim.elapsed() + 5_000);
        long rejected = 0;
        for (SupernodeShell s : sim.liveSupernodes()) {
            if (s == rogue) continue;
            rejected += s.node().store().rejected();
            for (DeviceRecord r : s.node().store().get(victim.user, sim.engine().now())) {
                assertThat(r.sequence()).as("no honest store holds the forged sequence").isNotEqualTo(bad.sequence());
            }
        }
        assertThat(rejected - rejectedBefore).isGreaterThanOrEqualTo(sim.liveSupernodes().size() - 1);
        // lookups from every honest supernode: the forged record never comes back, the genuine one does
        List<OverlayNode.LookupResult> results = new ArrayList<>();
        for (SupernodeShell s : sim.liveSupernodes()) {
            if (s != rogue) s.node().findUser(victim.user, results::add);
            sim.runUntil(sim.elapsed() + 3_000); // past the answer cache
        }
        sim.runUntil(sim.elapsed() + 6_000);
        assertThat(results).hasSize(sim.liveSupernodes().size() - 1);
        assertThat(results).allSatisfy(r -> {
            assertThat(r.records()).noneMatch(d -> d.sequence() == bad.sequence() || d.supernodes().contains("evil.example:7700"));
            assertThat(r.records()).anyMatch(d -> d.deviceId().equals(victim.deviceId));
        });
    }
}

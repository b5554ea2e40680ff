package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.parley.overlay.RecordStore.Outcome;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

class RecordStoreTest {
    static final long T0 = 1_700_000_000_000L;
    final VirtualClock clock = new VirtualClock(T0);
    final RecordStore.Validator validator = FakePki.validator(clock::now);

    static DeviceRecord rec(String user, String device, long seq, long expires) {
        return FakePki.record(user, device, seq, expires, "198.51.100.7:4000");
    }

    static String dev(int i) {
        return String.format("%032x", i);
    }

    @Test
    void storesValidRecordsAndReturnsThem() {
        RecordStore s = new RecordStore(validator, 100);
        DeviceRecord a = rec("alice", dev(1), 1, T0 + 60_000);
        DeviceRecord b = rec("alice", dev(2), 7, T0 + 60_000);
        DeviceRecord c = rec("bob", dev(3), 1, T0 + 60_000);
        assertThat(s.put(a)).isEqualTo(Outcome.STORED);
        assertThat(s.put(b)).isEqualTo(Outcome.STORED);
        assertThat(s.put(c)).isEqualTo(Outcome.STORED);
        assertThat(s.size()).isEqualTo(3);
        assertThat(s.get("alice", T0)).containsExactlyInAnyOrder(a, b);
        assertThat(s.get("bob", T0)).containsExactly(c);
        assertThat(s.get("carol", T0)).isEmpty();
        assertThat(s.users()).containsExactlyInAnyOrder("alice", "bob");
        assertThat(s.rejected()).isZero();
        assertThat(s.lastRejection()).isNull();
    }

    @Test
    void rejectsInvalidRecordsAndCountsThem() {
        RecordStore s = new RecordStore(validator, 100);
        DeviceRecord good = rec("alice", dev(1), 1, T0 + 60_000);
        DeviceRecord[] bad = {
                FakePki.tampered(good, "203.0.113.66:666"),
                FakePki.signedByWrongKey(good),
                rec("alice", dev(1), 1, T0),                                   // expired
                rec("alice", dev(1), 1, T0 + Limits.MAX_RECORD_TTL_MILLIS + 1), // lifetime over the limit
                good.withSignature(new byte[0]),
        };
        for (DeviceRecord r : bad) assertThat(s.put(r)).isEqualTo(Outcome.INVALID);
        assertThat(s.rejected()).isEqualTo(bad.length);
        assertThat(s.lastRejection()).isEqualTo("bad signature");
        assertThat(s.size()).isZero();
        assertThat(s.users()).isEmpty();
        assertThat(s.get("alice", T0)).isEmpty();
        // a forged newer version of a stored record does not replace it either
        assertThat(s.put(good)).isEqualTo(Outcome.STORED);
        DeviceRecord forgedNewer = FakePki.tampered(rec("alice", dev(1), 2, T0 + 60_000), "203.0.113.66:666");
        assertThat(s.put(forgedNewer)).isEqualTo(Outcome.INVALID);
        assertThat(s.rejected()).isEqualTo(bad.length + 1);
        assertThat(s.get("alice", T0)).containsExactly(good);
    }

    @Test
    void refusesRollbackAndIgnoresRepeats() {
        RecordStore s = new RecordStore(validator, 100);
        DeviceRecord v5 = rec("alice", dev(1), 5, T0 + 60_000);
        assertThat(s.put(v5)).isEqualTo(Outcome.STORED);
        DeviceRecord v4 = rec("alice", dev(1), 4, T0 + 120_000); // validly signed, just older
        assertThat(s.put(v4)).isEqualTo(Outcome.STALE);
        assertThat(s.get("alice", T0)).containsExactly(v5);
        // the same sequence with other content (even validly signed) changes nothing
        DeviceRecord v5b = FakePki.record("alice", dev(1), 5, T0 + 120_000, "192.0.2.1:1");
        assertThat(s.put(v5b)).isEqualTo(Outcome.UNCHANGED);
        assertThat(s.put(v5)).isEqualTo(Outcome.UNCHANGED);
        assertThat(s.get("alice", T0)).containsExactly(v5);
        DeviceRecord v6 = rec("alice", dev(1), 6, T0 + 90_000);
        assertThat(s.put(v6)).isEqualTo(Outcome.STORED);
        assertThat(s.get("alice", T0)).containsExactly(v6);
        assertThat(s.size()).isEqualTo(1);
        assertThat(s.put(v5)).isEqualTo(Outcome.STALE);
        assertThat(s.get("alice", T0)).containsExactly(v6);
        assertThat(s.rejected()).isZero();
    }

    @Test
    void expiredRecordsAreHiddenAndSwept() {
        RecordStore s = new RecordStore(validator, 100);
        DeviceRecord early = rec("alice", dev(1), 1, T0 + 10_000);
        DeviceRecord late = rec("alice", dev(2), 1, T0 + 20_000);
        DeviceRecord bob = rec("bob", dev(3), 1, T0 + 10_000);
        s.put(early);
        s.put(late);
        s.put(bob);
        assertThat(s.get("alice", T0 + 9_999)).containsExactlyInAnyOrder(early, late);
        assertThat(s.get("alice", T0 + 10_000)).containsExactly(late); // expiry is exclusive
        assertThat(s.sweep(T0 + 5_000)).isZero();
        assertThat(s.size()).isEqualTo(3);
        assertThat(s.sweep(T0 + 10_000)).isEqualTo(2);
        assertThat(s.size()).isEqualTo(1);
        assertThat(s.users()).containsExactly("alice");
        assertThat(s.sweep(T0 + 20_000)).isEqualTo(1);
        assertThat(s.size()).isZero();
        assertThat(s.users()).isEmpty();
    }

    @Test
    void atMostMaxDevicesPerUserKeepingTheLongestLived() {
        RecordStore s = new RecordStore(validator, 1000);
        int max = Limits.MAX_DEVICES_PER_USER;
        for (int i = 0; i < max; i++) assertThat(s.put(rec("alice", dev(i), 1, T0 + 100_000 + i * 1000L))).isEqualTo(Outcome.STORED);
        assertThat(s.size()).isEqualTo(max);
        // one more device that expires sooner than all of them: refused
        assertThat(s.put(rec("alice", dev(100), 1, T0 + 50_000))).isEqualTo(Outcome.FULL);
        // one that lives longer replaces the soonest to expire (device 0)
        DeviceRecord newer = rec("alice", dev(101), 1, T0 + 500_000);
        assertThat(s.put(newer)).isEqualTo(Outcome.STORED);
        List<DeviceRecord> l = s.get("alice", T0);
        assertThat(l).hasSize(max).contains(newer);
        assertThat(l).extracting(DeviceRecord::deviceId).doesNotContain(dev(0));
        assertThat(s.size()).isEqualTo(max);
        // a flood of further devices never grows the user beyond the limit
        for (int i = 200; i < 300; i++) s.put(rec("alice", dev(i), 1, T0 + 600_000 + i));
        assertThat(s.get("alice", T0)).hasSize(max);
        assertThat(s.size()).isEqualTo(max);
        // and the count stays right when they expire
        assertThat(s.sweep(T0 + 10_000_000)).isEqualTo(max);
        assertThat(s.size()).isZero();
    }

    @Test
    void respectsTheStoreWideLimit() {
        RecordStore s = new RecordStore(validator, 3);
        assertThat(s.put(rec("a", dev(1), 1, T0 + 10_000))).isEqualTo(Outcome.STORED);
        assertThat(s.put(rec("b", dev(2), 1, T0 + 10_000))).isEqualTo(Outcome.STORED);
        assertThat(s.put(rec("b", dev(3), 1, T0 + 60_000))).isEqualTo(Outcome.STORED);
        assertThat(s.put(rec("c", dev(4), 1, T0 + 60_000))).isEqualTo(Outcome.FULL);
        assertThat(s.put(rec("a", dev(5), 1, T0 + 60_000))).isEqualTo(Outcome.FULL);
        // updates of stored devices still go through
        assertThat(s.put(rec("a", dev(1), 2, T0 + 60_000))).isEqualTo(Outcome.STORED);
        assertThat(s.size()).isEqualTo(3);
        assertThat(s.users()).containsExactlyInAnyOrder("a", "b");
        s.sweep(T0 + 10_000);
        assertThat(s.size()).isEqualTo(2);
        assertThat(s.put(rec("c", dev(4), 1, T0 + 60_000))).isEqualTo(Outcome.STORED);
        assertThat(s.size()).isEqualTo(3);
    }
}

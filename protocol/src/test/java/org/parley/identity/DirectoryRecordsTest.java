package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.parley.protocol.DeviceRecord;
import org.parley.protocol.Limits;

/** Directory records signed by a device key (P-256) and checked against a real test CA. */
class DirectoryRecordsTest {
    static final String NET = "testnet";
    static final Instant NB = Instant.parse("2030-01-01T00:00:00Z");
    static final Instant NA = NB.plus(Duration.ofDays(30));
    static final Instant NOW = NB.plus(Duration.ofDays(1));
    static final long NOW_MS = NOW.toEpochMilli();

    static KeyPair caKeys;
    static CertificateAuthority ca;
    static KeyPair alice1, alice2, bob1;
    static byte[] alice1Cert, alice2Cert, bob1Cert;
    static String alice1Id, alice2Id, bob1Id;

    @BeforeAll
    static void pki() throws Exception {
        caKeys = Keys.newCaKeyPair();
        ca = new CertificateAuthority(NET, caKeys);
        alice1 = Keys.newDeviceKeyPair();
        alice2 = Keys.newDeviceKeyPair();
        bob1 = Keys.newDeviceKeyPair();
        alice1Cert = ca.issueDevice("alice", Role.USER, alice1.getPublic(), Policy.DEFAULT, NB, NA).getEncoded();
        alice2Cert = ca.issueDevice("alice", Role.USER, alice2.getPublic(), Policy.DEFAULT, NB, NA).getEncoded();
        bob1Cert = ca.issueDevice("bob", Role.USER, bob1.getPublic(), Policy.DEFAULT, NB, NA).getEncoded();
        alice1Id = Keys.deviceId(alice1.getPublic());
        alice2Id = Keys.deviceId(alice2.getPublic());
        bob1Id = Keys.deviceId(bob1.getPublic());
    }

    static DirectoryRecords checkerAt(Instant now) {
        return new DirectoryRecords(new CertificateVerifier(NET, ca.publicKey(), Clock.fixed(now, ZoneOffset.UTC)));
    }

    static DirectoryRecords checker() {
        return checkerAt(NOW);
    }

    static DeviceRecord unsigned(String deviceId, String user, byte[] cert, long seq, long expiresAt) {
        return new DeviceRecord(deviceId, user, "online", "198.51.100.7:40000", List.of("10.0.0.2:40000", "[fd00::2]:40000"),
                cert, NOW_MS - 60_000, List.of("sn1.example:7000"), List.of("chat", "call"), seq, expiresAt, new byte[0]);
    }

    static DeviceRecord aliceRecord() {
        return DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 7, NOW_MS + Limits.RECORD_TTL_MILLIS), alice1.getPrivate());
    }

    /** Copies {@code r} with one component changed, keeping its signature. */
    static DeviceRecord with(DeviceRecord r, String field, Object v) {
        return new DeviceRecord(
                field.equals("deviceId") ? (String) v : r.deviceId(),
                field.equals("user") ? (String) v : r.user(),
                field.equals("presence") ? (String) v : r.presence(),
                field.equals("observedAddress") ? (String) v : r.observedAddress(),
                field.equals("localAddresses") ? castList(v) : r.localAddresses(),
                field.equals("certificate") ? (byte[]) v : r.certificate(),
                field.equals("sinceMillis") ? (Long) v : r.sinceMillis(),
                field.equals("supernodes") ? castList(v) : r.supernodes(),
                field.equals("capabilities") ? castList(v) : r.capabilities(),
                field.equals("sequence") ? (Long) v : r.sequence(),
                field.equals("expiresAtMillis") ? (Long) v : r.expiresAtMillis(),
                field.equals("signature") ? (byte[]) v : r.signature());
    }

    @SuppressWarnings("unchecked")
    static List<String> castList(Object v) {
        return (List<String>) v;
    }

    static String rejected(DirectoryRecords d, DeviceRecord r) {
        String why = d.check(r);
        assertThat(why).as("record should have been rejected").isNotNull().isNotBlank().doesNotContain("\n");
        assertThat(d.valid(r)).isFalse();
        return why;
    }

    @Test
    void validRecordPasses() {
        DeviceRecord r = aliceRecord();
        assertThat(r.signature()).isNotEmpty().hasSizeLessThanOrEqualTo(Limits.MAX_SIGNATURE_BYTES);
        assertThat(checker().check(r)).isNull();
        assertThat(checker().valid(r)).isTrue();
        // independent of which verifier instance checks it, and repeatable (certificate cache)
        DirectoryRecords d = checker();
        for (int i = 0; i < 3; i++) assertThat(d.check(r)).isNull();
        // the lifetime limit is inclusive
        DeviceRecord longest = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 8, NOW_MS + Limits.MAX_RECORD_TTL_MILLIS), alice1.getPrivate());
        assertThat(checker().check(longest)).isNull();
        // a record of another user, properly made, passes too
        DeviceRecord bob = DirectoryRecords.sign(unsigned(bob1Id, "bob", bob1Cert, 1, NOW_MS + 1000), bob1.getPrivate());
        assertThat(checker().check(bob)).isNull();
    }

    @Test
    void everyAlteredFieldIsRejected() {
        DeviceRecord r = aliceRecord();
        Map<String, Object> changes = new LinkedHashMap<>();
        changes.put("deviceId", alice2Id);
        changes.put("user", "mallory");
        changes.put("presence", "away");
        changes.put("observedAddress", "203.0.113.66:666");
        changes.put("localAddresses", List.of("10.0.0.2:40000"));
        changes.put("certificate", alice2Cert);
        changes.put("sinceMillis", r.sinceMillis() + 1);
        changes.put("supernodes", List.of("evil.example:7000"));
        changes.put("capabilities", List.of("chat", "call", "relay"));
        changes.put("sequence", r.sequence() + 1000);
        changes.put("expiresAtMillis", r.expiresAtMillis() + 1);
        List<String> reasons = new ArrayList<>();
        for (Map.Entry<String, Object> e : changes.entrySet()) {
            DeviceRecord altered = with(r, e.getKey(), e.getValue());
            assertThat(altered.sameAs(r)).isFalse();
            reasons.add(e.getKey() + ": " + rejected(checker(), altered));
        }
        assertThat(reasons).hasSize(changes.size());
        assertThat(rejected(checker(), with(r, "observedAddress", "203.0.113.66:666"))).contains("bad signature");
        assertThat(rejected(checker(), with(r, "sequence", r.sequence() + 1))).contains("bad signature");
        assertThat(rejected(checker(), with(r, "user", "mallory"))).contains("carries the certificate of");
        // the same record with its own signature still passes: the changes above were all that mattered
        assertThat(checker().check(with(r, "signature", r.signature()))).isNull();
    }

    @Test
    void noSingleBitFlipOfTheSignatureIsAccepted() {
        DeviceRecord r = aliceRecord();
        DirectoryRecords d = checker();
        byte[] sig = r.signature();
        for (int i = 0; i < sig.length * 8; i++) {
            byte[] s = sig.clone();
            s[i / 8] ^= (byte) (1 << (i % 8));
            assertThat(d.check(r.withSignature(s))).as("bit %d", i).isNotNull();
        }
        assertThat(rejected(d, r.withSignature(new byte[0]))).contains("bad signature");
        assertThat(rejected(d, r.withSignature(new byte[72]))).contains("bad signature");
        assertThat(rejected(d, r.withSignature(java.util.Arrays.copyOf(sig, sig.length - 1)))).contains("bad signature");
    }

    @Test
    void signatureOfAnotherDevicesKeyIsRejected() {
        DeviceRecord u = unsigned(alice1Id, "alice", alice1Cert, 7, NOW_MS + 60_000);
        assertThat(rejected(checker(), DirectoryRecords.sign(u, alice2.getPrivate()))).contains("bad signature");
        assertThat(rejected(checker(), DirectoryRecords.sign(u, bob1.getPrivate()))).contains("bad signature");
        // a signature lifted from another device's valid record does not transfer either
        DeviceRecord other = DirectoryRecords.sign(unsigned(alice2Id, "alice", alice2Cert, 7, NOW_MS + 60_000), alice2.getPrivate());
        assertThat(checker().check(other)).isNull();
        assertThat(rejected(checker(), u.withSignature(other.signature()))).contains("bad signature");
    }

    @Test
    void certificateOfAnotherUserOrDeviceIsRejected() {
        // bob's certificate and key, dressed up as alice's device
        DeviceRecord asAlice = DirectoryRecords.sign(unsigned(alice1Id, "alice", bob1Cert, 7, NOW_MS + 60_000), bob1.getPrivate());
        assertThat(rejected(checker(), asAlice)).contains("carries the certificate of").contains("bob");
        // bob's certificate and key, alice's name with bob's device id
        DeviceRecord nameOnly = DirectoryRecords.sign(unsigned(bob1Id, "alice", bob1Cert, 7, NOW_MS + 60_000), bob1.getPrivate());
        assertThat(rejected(checker(), nameOnly)).contains("carries the certificate of");
        // alice's other device claiming to be her first one
        DeviceRecord otherDevice = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice2Cert, 7, NOW_MS + 60_000), alice2.getPrivate());
        assertThat(rejected(checker(), otherDevice)).contains("carries the certificate of");
    }

    @Test
    void expiredRecordIsRejected() {
        for (long expires : new long[] {NOW_MS, NOW_MS - 1, NOW_MS - Limits.RECORD_TTL_MILLIS, 0}) {
            DeviceRecord r = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 7, expires), alice1.getPrivate());
            assertThat(rejected(checker(), r)).contains("expired");
        }
        // valid now, expired a moment later
        DeviceRecord r = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 7, NOW_MS + 1000), alice1.getPrivate());
        assertThat(checker().check(r)).isNull();
        assertThat(rejected(checkerAt(NOW.plusSeconds(1)), r)).contains("expired");
    }

    @Test
    void overLongLifetimeIsRejected() {
        for (long expires : new long[] {NOW_MS + Limits.MAX_RECORD_TTL_MILLIS + 1, NOW_MS + 24 * 3_600_000L, Long.MAX_VALUE}) {
            DeviceRecord r = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 7, expires), alice1.getPrivate());
            assertThat(rejected(checker(), r)).contains("lifetime");
        }
    }

    @Test
    void certificateOfAnotherCaIsRejected() throws Exception {
        CertificateAuthority rogue = new CertificateAuthority(NET, Keys.newCaKeyPair()); // same network name
        byte[] rogueCert = rogue.issueDevice("alice", Role.USER, alice1.getPublic(), Policy.DEFAULT, NB, NA).getEncoded();
        DeviceRecord r = DirectoryRecords.sign(unsigned(alice1Id, "alice", rogueCert, 7, NOW_MS + 60_000), alice1.getPrivate());
        assertThat(rejected(checker(), r)).contains("bad certificate");
        // and a certificate of another network signed by our CA key is no good either
        KeyPair mallory = Keys.newDeviceKeyPair();
        byte[] otherNet = new CertificateAuthority("othernet", caKeys)
                .issueDevice("alice", Role.USER, mallory.getPublic(), Policy.DEFAULT, NB, NA).getEncoded();
        DeviceRecord r2 = DirectoryRecords.sign(unsigned(Keys.deviceId(mallory.getPublic()), "alice", otherNet, 7, NOW_MS + 60_000),
                mallory.getPrivate());
        assertThat(rejected(checker(), r2)).contains("bad certificate").contains("othernet");
    }

    @Test
    void expiredOrGarbageCertificateIsRejected() {
        DeviceRecord r = aliceRecord();
        Instant after = NA.plusSeconds(60);
        DeviceRecord fresh = DirectoryRecords.sign(unsigned(alice1Id, "alice", alice1Cert, 9, after.toEpochMilli() + 60_000), alice1.getPrivate());
        assertThat(rejected(checkerAt(after), fresh)).contains("bad certificate").contains("expired");
        DeviceRecord garbage = DirectoryRecords.sign(unsigned(alice1Id, "alice", "not a certificate".getBytes(), 7, NOW_MS + 60_000),
                alice1.getPrivate());
        assertThat(rejected(checker(), garbage)).contains("bad certificate");
        assertThat(rejected(checker(), with(r, "certificate", new byte[0]))).contains("bad certificate");
    }

    @Test
    void tooManyAddressesAreRejected() {
        UnaryOperator<List<String>> many = l -> {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < 20; i++) out.add("10.0.0." + i + ":1");
            return out;
        };
        for (String field : List.of("localAddresses", "supernodes", "capabilities")) {
            DeviceRecord u = with(unsigned(alice1Id, "alice", alice1Cert, 7, NOW_MS + 60_000), field, many.apply(null));
            assertThat(rejected(checker(), DirectoryRecords.sign(u, alice1.getPrivate()))).as(field).contains("too many");
        }
    }

    @Test
    void oversizedFieldsYieldAReasonInsteadOfAnException() {
        DeviceRecord r = aliceRecord();
        DeviceRecord big = with(r, "observedAddress", "x".repeat(20_000));
        assertThat(rejected(checker(), big)).isNotBlank();
    }

    @Test
    void signingNeedsADeviceKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        KeyPair rsa = g.generateKeyPair();
        DeviceRecord u = unsigned(alice1Id, "alice", alice1Cert, 7, NOW_MS + 60_000);
        assertThatThrownBy(() -> DirectoryRecords.sign(u, rsa.getPrivate())).isInstanceOf(IllegalArgumentException.class);
        // and records signed with the key are stable in content: sign only sets the signature
        DeviceRecord s = DirectoryRecords.sign(u, alice1.getPrivate());
        assertThat(s.signedBytes()).isEqualTo(u.signedBytes());
    }
}

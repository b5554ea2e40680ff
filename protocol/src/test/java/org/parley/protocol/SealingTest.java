package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.parley.identity.Keys;

class SealingTest {
    static KeyPair alice;
    static KeyPair bob;
    static KeyPair mallory;
    static String aliceId;
    static String bobId;
    static String malloryId;

    @BeforeAll
    static void keys() {
        alice = Keys.newDeviceKeyPair();
        bob = Keys.newDeviceKeyPair();
        mallory = Keys.newDeviceKeyPair();
        aliceId = Keys.deviceId(alice.getPublic());
        bobId = Keys.deviceId(bob.getPublic());
        malloryId = Keys.deviceId(mallory.getPublic());
    }

    static byte[] sealAliceToBob(byte[] plaintext) {
        return Sealing.seal(alice.getPrivate(), aliceId, bob.getPublic(), bobId, plaintext);
    }

    static byte[] openAsBob(byte[] sealed) throws WireFormatException {
        return Sealing.open(bob.getPrivate(), bobId, alice.getPublic(), aliceId, sealed);
    }

    static byte[] samplePlaintext() {
        return FrameCodec.encode(new Frame.EventPush(0, java.util.List.of(
                "secret message ✓".getBytes(java.nio.charset.StandardCharsets.UTF_8)), java.util.List.of()));
    }

    @Test
    void roundTripsBetweenTwoDevices() throws Exception {
        byte[] pt = samplePlaintext();
        byte[] sealed = sealAliceToBob(pt);
        assertThat(sealed).hasSize(12 + pt.length + 16);
        byte[] opened = openAsBob(sealed);
        assertThat(opened).isEqualTo(pt);
        assertThat(FrameCodec.encode(FrameCodec.decode(opened))).isEqualTo(pt);
        // the ciphertext does not contain the plaintext
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain("secret message");
    }

    @Test
    void worksInBothDirections() throws Exception {
        byte[] pt = "reply".getBytes(StandardCharsets.UTF_8);
        byte[] sealed = Sealing.seal(bob.getPrivate(), bobId, alice.getPublic(), aliceId, pt);
        assertThat(Sealing.open(alice.getPrivate(), aliceId, bob.getPublic(), bobId, sealed)).isEqualTo(pt);
    }

    @Test
    void emptyAndLargePlaintextsRoundTrip() throws Exception {
        byte[] empty = sealAliceToBob(new byte[0]);
        assertThat(empty).hasSize(28);
        assertThat(openAsBob(empty)).isEmpty();

        byte[] big = new byte[Limits.MAX_FRAME_PAYLOAD];
        new java.util.Random(1).nextBytes(big);
        assertThat(openAsBob(sealAliceToBob(big))).isEqualTo(big);
    }

    @Test
    void twoSealsOfTheSamePlaintextDiffer() throws Exception {
        byte[] pt = samplePlaintext();
        byte[] a = sealAliceToBob(pt);
        byte[] b = sealAliceToBob(pt);
        assertThat(a).isNotEqualTo(b);
        assertThat(Arrays.copyOf(a, 12)).as("nonces").isNotEqualTo(Arrays.copyOf(b, 12));
        assertThat(openAsBob(a)).isEqualTo(pt);
        assertThat(openAsBob(b)).isEqualTo(pt);
    }

    @Test
    void thirdPartyCannotOpen() {
        byte[] sealed = sealAliceToBob(samplePlaintext());
        // mallory with her own key, pretending to be bob
        assertThatThrownBy(() -> Sealing.open(mallory.getPrivate(), bobId, alice.getPublic(), aliceId, sealed))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> Sealing.open(mallory.getPrivate(), malloryId, alice.getPublic(), aliceId, sealed))
                .isInstanceOf(WireFormatException.class);
    }

    @Test
    void wrongPeerKeyFails() {
        byte[] sealed = sealAliceToBob(samplePlaintext());
        // bob believes the sender is mallory
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), bobId, mallory.getPublic(), aliceId, sealed))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), bobId, mallory.getPublic(), malloryId, sealed))
                .isInstanceOf(WireFormatException.class);
    }

    @Test
    void swappedOrWrongDeviceIdsFail() {
        byte[] sealed = sealAliceToBob(samplePlaintext());
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), aliceId, alice.getPublic(), bobId, sealed))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), bobId, alice.getPublic(), malloryId, sealed))
                .isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), malloryId, alice.getPublic(), aliceId, sealed))
                .isInstanceOf(WireFormatException.class);
    }

    @Test
    void senderCannotOpenItsOwnEnvelopeAsIfItCameFromThePeer() {
        // the ECDH key is symmetric; the direction is bound by the associated data (reflection protection)
        byte[] sealed = sealAliceToBob(samplePlaintext());
        assertThatThrownBy(() -> Sealing.open(alice.getPrivate(), aliceId, bob.getPublic(), bobId, sealed))
                .isInstanceOf(WireFormatException.class);
    }

    @Test
    void everySingleFlippedByteIsDetected() {
        byte[] sealed = sealAliceToBob(samplePlaintext());
        for (int i = 0; i < sealed.length; i++) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] t = sealed.clone();
                t[i] ^= (byte) bit;
                try {
                    openAsBob(t);
                    fail("flipping bit " + bit + " of byte " + i + " was not detected");
                } catch (WireFormatException expected) {
                    // ok
                }
            }
        }
    }

    @Test
    void everyTruncationAndExtensionIsDetected() {
        byte[] sealed = sealAliceToBob(samplePlaintext());
        for (int n = 0; n < sealed.length; n++) {
            byte[] t = Arrays.copyOf(sealed, n);
            assertThatThrownBy(() -> openAsBob(t)).as("truncated to %d", n).isInstanceOf(WireFormatException.class);
        }
        byte[] longer = Arrays.copyOf(sealed, sealed.length + 1);
        assertThatThrownBy(() -> openAsBob(longer)).isInstanceOf(WireFormatException.class);
        assertThatThrownBy(() -> openAsBob(new byte[28])).isInstanceOf(WireFormatException.class);
    }

    @Test
    void nonEcKeysAreAProgrammingError() {
        KeyPair ca = Keys.newCaKeyPair();
        assertThatThrownBy(() -> Sealing.seal(ca.getPrivate(), "a", bob.getPublic(), bobId, new byte[1]))
                .isInstanceOf(IllegalStateException.class);
        byte[] sealed = sealAliceToBob(new byte[1]);
        assertThatThrownBy(() -> Sealing.open(bob.getPrivate(), bobId, ca.getPublic(), aliceId, sealed))
                .isInstanceOf(WireFormatException.class);
    }
}

package org.parley.overlay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NodeIdTest {
    static BigInteger big(NodeId id) {
        return new BigInteger(1, id.bytes());
    }

    static BigInteger distance(NodeId a, NodeId b) {
        return big(a).xor(big(b));
    }

    /** Ids that share long prefixes, so that the interesting low bits get exercised too. */
    static NodeId near(NodeId base, Random rnd) {
        byte[] b = base.bytes();
        int flips = 1 + rnd.nextInt(3);
        for (int i = 0; i < flips; i++) {
            int bit = rnd.nextInt(NodeId.BITS);
            b[b.length - 1 - bit / 8] ^= (byte) (1 << (bit % 8));
        }
        return NodeId.of(b);
    }

    @Test
    void bucketIndexIsTheHighestDifferingBitOfTheXor() {
        Random rnd = new Random(1);
        for (int i = 0; i < 5000; i++) {
            NodeId a = NodeId.random(rnd);
            NodeId b = i % 2 == 0 ? NodeId.random(rnd) : near(a, rnd);
            BigInteger d = distance(a, b);
            int expected = d.signum() == 0 ? -1 : d.bitLength() - 1;
            assertThat(a.bucketIndex(b)).as("ids %s %s", a, b).isEqualTo(expected);
            assertThat(b.bucketIndex(a)).isEqualTo(expected);
        }
        NodeId x = NodeId.random(rnd);
        assertThat(x.bucketIndex(NodeId.of(x.bytes()))).isEqualTo(-1);
    }

    @Test
    void compareDistanceAgreesWithXorArithmetic() {
        Random rnd = new Random(2);
        for (int i = 0; i < 5000; i++) {
            NodeId t = NodeId.random(rnd);
            NodeId a = i % 3 == 0 ? near(t, rnd) : NodeId.random(rnd);
            NodeId b = i % 5 == 0 ? near(a, rnd) : i % 7 == 0 ? a : NodeId.random(rnd);
            int expected = Integer.signum(distance(t, a).compareTo(distance(t, b)));
            assertThat(Integer.signum(t.compareDistance(a, b))).as("target %s a %s b %s", t, a, b).isEqualTo(expected);
            assertThat(Integer.signum(t.compareDistance(b, a))).isEqualTo(-expected);
        }
    }

    @Test
    void randomInBucketLandsInThatBucketForEveryIndex() {
        Random rnd = new Random(3);
        for (int round = 0; round < 20; round++) {
            NodeId self = NodeId.random(rnd);
            for (int i = 0; i < NodeId.BITS; i++) {
                NodeId r = self.randomInBucket(i, rnd);
                assertThat(self.bucketIndex(r)).as("bucket %d", i).isEqualTo(i);
                BigInteger d = distance(self, r);
                assertThat(d.compareTo(BigInteger.ONE.shiftLeft(i))).isGreaterThanOrEqualTo(0);
                assertThat(d.compareTo(BigInteger.ONE.shiftLeft(i + 1))).isLessThan(0);
            }
        }
    }

    @Test
    void randomInBucketIsActuallyRandomBelowTheBucketBit() {
        Random rnd = new Random(4);
        NodeId self = NodeId.random(rnd);
        java.util.Set<NodeId> seen = new java.util.HashSet<>();
        for (int i = 0; i < 50; i++) seen.add(self.randomInBucket(200, rnd));
        assertThat(seen).hasSize(50);
        // bucket 0 has exactly one member: self with the lowest bit flipped
        assertThat(self.randomInBucket(0, rnd)).isEqualTo(self.randomInBucket(0, rnd));
    }

    @Test
    void idsAreValuesAndCopiesAreDefensive() {
        Random rnd = new Random(5);
        NodeId a = NodeId.random(rnd);
        byte[] raw = a.bytes();
        raw[0] ^= 1;
        assertThat(a.bytes()).isNotEqualTo(raw);
        NodeId b = NodeId.of(a.bytes());
        assertThat(b).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(a.compareTo(b)).isZero();
        assertThat(Integer.signum(a.compareTo(NodeId.of(raw)))).isEqualTo(Integer.signum(big(a).compareTo(new BigInteger(1, raw))));
        assertThat(NodeId.forUser("alice")).isEqualTo(NodeId.forUser("alice")).isNotEqualTo(NodeId.forUser("bob"));
        assertThatThrownBy(() -> NodeId.of(new byte[31])).isInstanceOf(IllegalArgumentException.class);
        assertThat(NodeId.BITS).isEqualTo(256);
    }
}

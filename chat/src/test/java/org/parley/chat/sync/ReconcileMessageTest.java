package org.parley.chat.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.parley.protocol.ReconcileMessage;
import org.parley.protocol.ReconcileMessage.Bound;
import org.parley.protocol.ReconcileMessage.Range;
import org.parley.protocol.WireFormatException;

/** The reconciliation message wire format: round trips, the documented layout, and every malformed input. */
class ReconcileMessageTest {
    static final HexFormat HEX = HexFormat.of();

    static byte[] id(int seed) {
        byte[] id = new byte[32];
        new Random(seed).nextBytes(id);
        return id;
    }

    static byte[] fp(int seed) {
        return Arrays.copyOf(id(seed + 1000), 16);
    }

    static ReconcileMessage sample() {
        return new ReconcileMessage(List.of(
                Range.fingerprint(new Bound(1000, new byte[0]), 7, fp(1)),
                Range.skip(new Bound(1000, new byte[] {0x12})),
                Range.idList(new Bound(5000, new byte[] {0x12, 0x34}), List.of(id(1), id(2))),
                Range.fingerprint(Bound.INFINITY, 300, fp(2))),
                List.of(id(3)));
    }

    @Test
    void roundTrips() throws Exception {
        ReconcileMessage m = sample();
        byte[] bytes = m.encode();
        assertThat(bytes).hasSize(m.encodedSize());
        ReconcileMessage back = ReconcileMessage.decode(bytes);
        assertThat(back).isEqualTo(m);
        assertThat(back.encode()).isEqualTo(bytes);
        assertThat(back.need()).hasSize(1);
        assertThat(back.need().getFirst()).isEqualTo(id(3));
        assertThat(back.ranges().get(2).ids()).containsExactly(id(1), id(2));
    }

    @Test
    void emptyMessageIsThreeBytes() throws Exception {
        ReconcileMessage m = new ReconcileMessage(List.of(), List.of());
        assertThat(m.encode()).containsExactly(1, 0, 0);
        assertThat(ReconcileMessage.decode(new byte[] {1, 0, 0})).isEqualTo(m);
    }

    /** Pins the byte layout documented on {@link ReconcileMessage}. */
    @Test
    void layoutIsAsDocumented() {
        byte[] f = fp(9);
        ReconcileMessage m = new ReconcileMessage(List.of(
                Range.skip(new Bound(300, new byte[0])),
                Range.fingerprint(new Bound(300, new byte[] {(byte) 0xab}), 2, f),
                Range.idList(Bound.INFINITY, List.of(id(4)))),
                List.of(id(5)));
        ByteArrayOutputStream x = new ByteArrayOutputStream();
        x.write(1);                                  // version
        x.write(3);                                  // 3 ranges
        x.write(0xAD); x.write(0x02); x.write(0);    // hlc code 301 = 1 + (300 - 0), prefix length 0
        x.write(0);                                  // SKIP
        x.write(1); x.write(1); x.write(0xab);       // hlc code 1 = 1 + (300 - 300), prefix ab
        x.write(1); x.write(2); x.writeBytes(f);     // FINGERPRINT, count 2, fingerprint
        x.write(0); x.write(0);                      // infinity
        x.write(2); x.write(1); x.writeBytes(id(4)); // IDLIST of one id
        x.write(1); x.writeBytes(id(5));             // need one id
        assertThat(HEX.formatHex(m.encode())).isEqualTo(HEX.formatHex(x.toByteArray()));

        // the example in the class comment
        ReconcileMessage example = new ReconcileMessage(List.of(Range.skip(new Bound(300, new byte[0])),
                Range.idList(Bound.INFINITY, List.of(id(6)))), List.of());
        assertThat(HEX.formatHex(example.encode())).isEqualTo("0102ad02000000000201" + HEX.formatHex(id(6)) + "00");
    }

    @Test
    void fingerprintIsSha256OfSumAndVarintCount() throws Exception {
        List<byte[]> ids = List.of(id(1), id(2), id(3));
        BigInteger sum = BigInteger.ZERO;
        for (byte[] i : ids) sum = sum.add(new BigInteger(1, reverse(i)));
        sum = sum.mod(BigInteger.TWO.pow(256));
        byte[] le = reverse(toFixed32(sum));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(le);
        sha.update((byte) 3);
        byte[] expected = Arrays.copyOf(sha.digest(), 16);

        long[] limbs = new long[4];
        for (int l = 0; l < 4; l++) for (int b = 0; b < 8; b++) limbs[l] |= (le[l * 8 + b] & 0xffL) << (8 * b);
        assertThat(ReconcileMessage.fingerprint(limbs, 3)).isEqualTo(expected);

        // empty set: SHA-256 of 32 zero bytes and the varint 0
        sha.update(new byte[32]);
        sha.update((byte) 0);
        assertThat(ReconcileMessage.fingerprint(new long[4], 0)).isEqualTo(Arrays.copyOf(sha.digest(), 16));
    }

    static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) r[i] = b[b.length - 1 - i];
        return r;
    }

    static byte[] toFixed32(BigInteger v) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[32];
        int n = Math.min(32, raw.length);
        System.arraycopy(raw, raw.length - n, out, 32 - n, n);
        return out;
    }

    @Test
    void varints() {
        byte[] buf = new byte[10];
        assertThat(ReconcileMessage.putVarint(buf, 0, 0)).isEqualTo(1);
        assertThat(ReconcileMessage.putVarint(buf, 0, 127)).isEqualTo(1);
        assertThat(ReconcileMessage.putVarint(buf, 0, 128)).isEqualTo(2);
        assertThat(Arrays.copyOf(buf, 2)).containsExactly(0x80, 0x01);
        assertThat(ReconcileMessage.putVarint(buf, 0, -1L)).isEqualTo(10);
        assertThat(ReconcileMessage.varintSize(-1L)).isEqualTo(10);
        assertThat(ReconcileMessage.varintSize(Long.MAX_VALUE)).isEqualTo(9);
    }

    // ------------------------------------------------------------------ malformed input

    static void rejects(byte[] bytes, String messagePart) {
        assertThatThrownBy(() -> ReconcileMessage.decode(bytes))
                .isInstanceOf(WireFormatException.class)
                .hasMessageContaining(messagePart);
    }

    static byte[] concat(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) b[i] = (byte) bytes[i];
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    @Test
    void rejectsEmptyAndNull() {
        rejects(new byte[0], "truncated");
        assertThatThrownBy(() -> ReconcileMessage.decode(null)).isInstanceOf(WireFormatException.class);
    }

    @Test
    void rejectsUnknownVersion() {
        rejects(concat(0, 0, 0), "version");
        rejects(concat(2, 0, 0), "version");
        rejects(concat(0x61, 0, 0), "version");
    }

    @Test
    void rejectsEveryTruncation() {
        byte[] full = sample().encode();
        for (int n = 0; n < full.length; n++) {
            byte[] cut = Arrays.copyOf(full, n);
            assertThatThrownBy(() -> ReconcileMessage.decode(cut)).as("prefix of %d bytes", n).isInstanceOf(WireFormatException.class);
        }
    }

    @Test
    void rejectsTrailingBytes() {
        rejects(concat(sample().encode(), new byte[] {0}), "trailing");
        rejects(concat(1, 0, 0, 0), "trailing");
    }

    @Test
    void rejectsPrefixOver32() {
        byte[] b = concat(concat(1, 1, 2, 33), new byte[33], concat(0, 0));
        rejects(b, "prefix");
    }

    @Test
    void rejectsInfinityWithPrefix() {
        rejects(concat(1, 1, 0, 1, 0x55, 0, 0), "infinity");
    }

    @Test
    void rejectsUnknownMode() {
        rejects(concat(1, 1, 2, 0, 3, 0), "mode");
        rejects(concat(1, 1, 2, 0, 0xff, 0), "mode");
    }

    @Test
    void rejectsCountOverLimit() {
        // FINGERPRINT count 2^31 (varint 80 80 80 80 08)
        byte[] b = concat(concat(1, 1, 2, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x08), new byte[16], concat(0));
        rejects(b, "count");
    }

    @Test
    void rejectsTooManyRanges() {
        int n = ReconcileMessage.MAX_RANGES + 1; // varint of 8193 = 0x81 0x40
        assertThat(n).isEqualTo(8193);
        rejects(concat(1, 0x81, 0x40), "ranges");
    }

    @Test
    void rejectsTooManyIds() {
        int n = ReconcileMessage.MAX_IDS + 1;
        byte[] count = new byte[3];
        int len = ReconcileMessage.putVarint(count, 0, n);
        // an IDLIST claiming too many ids
        rejects(concat(concat(1, 1, 0, 0, 2), Arrays.copyOf(count, len)), "ids");
        // a need list claiming too many ids
        rejects(concat(concat(1, 0), Arrays.copyOf(count, len)), "ids");
        // IDLIST and need together over the limit, each within it (lengths are checked before reading ids)
        byte[] half = new byte[3];
        int hl = ReconcileMessage.putVarint(half, 0, ReconcileMessage.MAX_IDS / 2 + 1);
        rejects(concat(concat(1, 1, 0, 0, 2), Arrays.copyOf(half, hl), new byte[(ReconcileMessage.MAX_IDS / 2 + 1) * 32],
                Arrays.copyOf(half, hl)), "ids");
    }

    @Test
    void rejectsMessagesOverTheSizeLimit() {
        byte[] big = new byte[ReconcileMessage.MAX_MESSAGE_BYTES + 1];
        big[0] = 1;
        rejects(big, "over the limit");
    }

    @Test
    void rejectsBoundsNotStrictlyIncreasing() {
        // two SKIPs at the same bound (hlc 5, then delta 0)
        rejects(concat(1, 2, 6, 0, 0, 1, 0, 0, 0), "strictly increasing");
        // same hlc, smaller prefix
        rejects(concat(1, 2, 6, 1, 0x20, 0, 1, 1, 0x10, 0, 0), "strictly increasing");
        // same point written two ways: (5, 20) then (5, 20 00)
        rejects(concat(1, 2, 6, 1, 0x20, 0, 1, 2, 0x20, 0x00, 0, 0), "strictly increasing");
        // the first bound may not be the lowest point (0, empty)
        rejects(concat(1, 1, 1, 0, 0, 0), "strictly increasing");
        // nothing after infinity
        rejects(concat(1, 2, 0, 0, 0, 2, 0, 0, 0), "infinity");
        rejects(concat(1, 2, 0, 0, 0, 0, 0, 0, 0), "infinity");
    }

    @Test
    void rejectsBadVarints() {
        rejects(concat(1, 0x80, 0x00, 0), "redundant");
        // 10-byte varint whose last byte carries more than bit 63
        rejects(concat(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), "64 bits");
        // 11 bytes
        rejects(concat(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "64 bits");
    }

    @Test
    void rejectsBoundHlcOutOfRange() {
        // hlc code 2^63 (negative as a long)
        rejects(concat(1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0), "hlc");
        // code 2^63 - 1 gives hlc Long.MAX_VALUE - 1 (fine), then a further delta of 1 reaches Long.MAX_VALUE
        byte[] max = new byte[10];
        int len = ReconcileMessage.putVarint(max, 0, Long.MAX_VALUE);
        byte[] ok = concat(concat(1, 1), Arrays.copyOf(max, len), concat(0, 0, 0));
        assertThat(decodes(ok)).isTrue();
        rejects(concat(concat(1, 2), Arrays.copyOf(max, len), concat(0, 0, 2, 0, 0, 0)), "hlc");
    }

    static boolean decodes(byte[] b) {
        try {
            ReconcileMessage.decode(b);
            return true;
        } catch (WireFormatException e) {
            return false;
        }
    }

    @Test
    void constructorRefusesWhatDecodeRefuses() {
        Bound b = new Bound(10, new byte[0]);
        assertThatThrownBy(() -> new ReconcileMessage(List.of(Range.skip(b), Range.skip(b)), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ReconcileMessage(List.of(Range.skip(Bound.MIN)), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ReconcileMessage(List.of(Range.skip(Bound.INFINITY), Range.skip(b)), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Bound(1, new byte[33])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Bound(-1, new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Bound(Long.MAX_VALUE, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Range.fingerprint(b, 1, new byte[15])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Range.idList(b, List.of(new byte[31]))).isInstanceOf(IllegalArgumentException.class);
        List<byte[]> tooMany = new ArrayList<>();
        for (int i = 0; i <= ReconcileMessage.MAX_IDS; i++) tooMany.add(new byte[32]);
        assertThatThrownBy(() -> new ReconcileMessage(List.of(), tooMany)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void boundOrderPadsPrefixesWithZeros() {
        assertThat(new Bound(5, new byte[] {1}).compareTo(new Bound(5, new byte[] {1, 0}))).isZero();
        assertThat(new Bound(5, new byte[] {1}).compareTo(new Bound(5, new byte[] {1, 1}))).isNegative();
        assertThat(new Bound(5, new byte[] {(byte) 0xff}).compareTo(new Bound(6, new byte[0]))).isNegative();
        assertThat(new Bound(Long.MAX_VALUE - 1, new byte[] {(byte) 0xff}).compareTo(Bound.INFINITY)).isNegative();
    }

    // ------------------------------------------------------------------ properties

    /** Random valid messages survive a round trip byte for byte. */
    @Property(tries = 300)
    void randomMessagesRoundTrip(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int nRanges,
                                 @ForAll @IntRange(min = 0, max = 5) int nNeed) throws Exception {
        ReconcileMessage m = randomMessage(new Random(seed), nRanges, nNeed);
        byte[] bytes = m.encode();
        assertThat(bytes).hasSize(m.encodedSize());
        ReconcileMessage back = ReconcileMessage.decode(bytes);
        assertThat(back).isEqualTo(m);
        assertThat(back.encode()).isEqualTo(bytes);
    }

    static ReconcileMessage randomMessage(Random r, int nRanges, int nNeed) {
        List<Bound> bounds = new ArrayList<>();
        long hlc = r.nextInt(3);
        Bound prev = Bound.MIN;
        while (bounds.size() < nRanges) {
            if (r.nextInt(4) == 0) hlc += r.nextInt(3) == 0 ? r.nextLong(1L << 50) : r.nextInt(100);
            byte[] prefix = new byte[r.nextInt(4) == 0 ? r.nextInt(33) : r.nextInt(3)];
            r.nextBytes(prefix);
            Bound b = new Bound(hlc, prefix);
            if (b.compareTo(prev) > 0) {
                bounds.add(b);
                prev = b;
            }
        }
        if (!bounds.isEmpty() && r.nextBoolean()) bounds.set(bounds.size() - 1, Bound.INFINITY);
        List<Range> ranges = new ArrayList<>();
        for (Bound b : bounds) {
            ranges.add(switch (r.nextInt(3)) {
                case 0 -> Range.skip(b);
                case 1 -> Range.fingerprint(b, r.nextInt(4) == 0 ? Integer.MAX_VALUE - r.nextInt(3) : r.nextInt(1000), fp(r.nextInt()));
                default -> {
                    List<byte[]> ids = new ArrayList<>();
                    for (int i = r.nextInt(4); i > 0; i--) ids.add(id(r.nextInt()));
                    yield Range.idList(b, ids);
                }
            });
        }
        List<byte[]> need = new ArrayList<>();
        for (int i = 0; i < nNeed; i++) need.add(id(r.nextInt()));
        return new ReconcileMessage(ranges, need);
    }

    /** Arbitrary bytes are a message or a WireFormatException, nothing else; a message re-encodes to the same bytes. */
    @Property(tries = 2000)
    void garbageOnlyEverThrowsWireFormatException(@ForAll @Size(max = 200) byte[] bytes, @ForAll boolean validVersion) {
        if (validVersion && bytes.length > 0) bytes[0] = 1;
        checkDecode(bytes);
    }

    /** Valid messages with one byte changed, cut, or grown are a message or a WireFormatException. */
    @Property(tries = 2000)
    void mutatedMessagesOnlyEverThrowWireFormatException(@ForAll long seed, @ForAll @IntRange(min = 0, max = 2) int how) {
        Random r = new Random(seed);
        byte[] b = randomMessage(r, r.nextInt(12), r.nextInt(3)).encode();
        byte[] m = switch (how) {
            case 0 -> {
                byte[] c = b.clone();
                c[r.nextInt(c.length)] ^= (byte) (1 + r.nextInt(255));
                yield c;
            }
            case 1 -> Arrays.copyOf(b, r.nextInt(b.length));
            default -> {
                int at = r.nextInt(b.length + 1);
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                c[at] = (byte) r.nextInt(256);
                System.arraycopy(b, at, c, at + 1, b.length - at);
                yield c;
            }
        };
        checkDecode(m);
    }

    static void checkDecode(byte[] bytes) {
        ReconcileMessage m;
        try {
            m = ReconcileMessage.decode(bytes);
        } catch (WireFormatException expected) {
            return;
        }
        assertThat(m.encode()).isEqualTo(bytes); // the encoding is canonical
    }
}

package org.parley.protocol;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One message of range-based set reconciliation (Negentropy-style) of a conversation's event set.
 *
 * <p>Each event is a sync item {@code (hlc, id)}: its hybrid-logical-clock time (a long, {@code 0 <= hlc <
 * Long.MAX_VALUE}) and its 32-byte event id. Items are ordered by hlc (signed compare), then by id (unsigned
 * lexicographic). A message splits the item space into consecutive ranges: the first range starts at the
 * lowest point {@code (0, empty prefix)}, every range ends (exclusively) at its upper bound and the next range
 * starts there. Space after the last range's upper bound is not mentioned (as if skipped).
 *
 * <p>A bound {@code (hlc, idPrefix)} stands for the point {@code (hlc, idPrefix padded with zero bytes to 32)};
 * an item belongs to a range when {@code lower <= item < upper}. The sender uses the shortest prefix that
 * separates the bound's item from the item just before it: empty when their hlcs differ, else the id bytes up to
 * and including the first byte where the two ids differ. The infinity bound is above every item.
 *
 * <p>Modes of a range:
 * <ul>
 *   <li>SKIP: nothing to say about this range (it is reconciled, or the sender has nothing to add);</li>
 *   <li>FINGERPRINT(count, fingerprint): how many items the sender has in the range and their
 *       {@linkplain #fingerprint(long[], long) fingerprint};</li>
 *   <li>IDLIST(ids): all ids the sender has in the range (possibly none).</li>
 * </ul>
 * The {@code need} list names ids the sender lacks and asks the receiver to send (they came in an IDLIST).
 *
 * <p>Byte layout. Integers are unsigned LEB128 varints (7 bits a byte, least significant group first, high
 * bit set on all but the last byte, at most 10 bytes, no redundant trailing zero groups) unless marked u8:
 * <pre>
 *   u8      version                    (= {@link #VERSION}, 1)
 *   varint  range count R              (at most {@link #MAX_RANGES}, 8192)
 *   R times:
 *     varint  hlc code                 0 = infinity (only the last range may have it);
 *                                      else bound hlc = previous bound hlc + code - 1, where "previous" is the
 *                                      previous finite bound in this message, 0 for the first
 *     u8      prefix length L          0..32; 0 for infinity
 *     L bytes id prefix
 *     u8      mode                     0 = SKIP, 1 = FINGERPRINT, 2 = IDLIST
 *     FINGERPRINT: varint count (at most 2^31-1), then 16 bytes fingerprint
 *     IDLIST:      varint n, then n * 32 bytes ids
 *   varint  need count N
 *   N * 32 bytes ids the sender needs
 * </pre>
 * Upper bounds must be strictly increasing (the first one above {@code (0, empty)}, compared with prefixes
 * padded with zero bytes); a finite bound's hlc is below {@code Long.MAX_VALUE}. All ids of a message (IDLISTs
 * plus need) are at most {@link #MAX_IDS} (1920), a message is at most {@link #MAX_MESSAGE_BYTES} (61440) bytes
 * long, and nothing follows the need list. {@link #decode} rejects anything else (truncation, an unknown
 * version or mode, a prefix over 32 bytes, a count over its limit, an overlong or non-minimal varint,
 * trailing bytes) with a {@link WireFormatException}. Every message has exactly one encoding.
 *
 * <p>Example: {@code 01 02 | AD 02 00 00 | 00 00 02 01 <32 bytes> | 00} is a SKIP up to {@code (300, empty)}
 * (code 301), then an IDLIST of one id up to infinity, and an empty need list.
 *
 * <p>Fingerprint of a set of items: the first 16 bytes of
 * {@code SHA-256(sum || varint(count))}, where {@code sum} is the sum of the ids read as 256-bit little-endian
 * integers, modulo 2^256, written as 32 bytes little-endian, and {@code varint(count)} is the LEB128 varint above.
 */
public record ReconcileMessage(List<Range> ranges, List<byte[]> need) {
    /** Format version, the first byte of every message. */
    public static final int VERSION = 1;
    /** Largest encoded message (fits a frame payload with room to spare). */
    public static final int MAX_MESSAGE_BYTES = 60 * 1024;
    /** Most ranges in one message. */
    public static final int MAX_RANGES = 8192;
    /** Most ids in one message, IDLISTs and need list together. */
    public static final int MAX_IDS = MAX_MESSAGE_BYTES / 32;
    /** Largest item count in a FINGERPRINT range. */
    public static final int MAX_COUNT = Integer.MAX_VALUE;
    /** Size of an event id. */
    public static final int ID_BYTES = 32;
    /** Size of a range fingerprint. */
    public static final int FINGERPRINT_BYTES = 16;
    /** Longest varint (a 64-bit value). */
    public static final int MAX_VARINT_BYTES = 10;

    /** How a range is described. */
    public enum Mode {
        SKIP(0), FINGERPRINT(1), IDLIST(2);
        public final int code;

        Mode(int code) {
            this.code = code;
        }
    }

    /**
     * An upper bound: the point {@code (hlc, idPrefix + zero bytes)}. {@link #INFINITY} is above every item;
     * a finite bound has {@code 0 <= hlc < Long.MAX_VALUE}.
     */
    public record Bound(long hlc, byte[] idPrefix) implements Comparable<Bound> {
        /** The bound above every item, (Long.MAX_VALUE, empty prefix). */
        public static final Bound INFINITY = new Bound(Long.MAX_VALUE, new byte[0]);
        /** The lowest point, where the first range of every message starts. */
        public static final Bound MIN = new Bound(0, new byte[0]);

        public Bound {
            Objects.requireNonNull(idPrefix, "idPrefix");
            if (hlc < 0) throw new IllegalArgumentException("negative bound hlc " + hlc);
            if (idPrefix.length > ID_BYTES) throw new IllegalArgumentException("bound prefix of " + idPrefix.length + " bytes");
            if (hlc == Long.MAX_VALUE && idPrefix.length != 0)
                throw new IllegalArgumentException("a bound at Long.MAX_VALUE must be the infinity bound (empty prefix)");
            idPrefix = idPrefix.clone();
        }

        public boolean isInfinity() {
            return hlc == Long.MAX_VALUE;
        }

        /** The prefix (a copy). */
        @Override
        public byte[] idPrefix() {
            return idPrefix.clone();
        }

        /** The prefix length, without copying. */
        public int prefixLength() {
            return idPrefix.length;
        }

        /** Byte {@code i} of the prefix, without copying. */
        public byte prefixByte(int i) {
            return idPrefix[i];
        }

        /** Compares this bound with item {@code (hlc, id)}: negative if the bound is below the item. */
        public int compareToItem(long itemHlc, byte[] id, int idOffset) {
            if (hlc != itemHlc) return Long.compare(hlc, itemHlc);
            int c = Arrays.compareUnsigned(idPrefix, 0, idPrefix.length, id, idOffset, idOffset + idPrefix.length);
            // equal prefixes: the bound is the prefix padded with zeros, so it is at or below the item
            return c == 0 ? (isZeroTail(id, idOffset + idPrefix.length, idOffset + ID_BYTES) ? 0 : -1) : c;
        }

        private static boolean isZeroTail(byte[] b, int from, int to) {
            for (int i = from; i < to; i++) if (b[i] != 0) return false;
            return true;
        }

        @Override
        public int compareTo(Bound o) {
            if (hlc != o.hlc) return Long.compare(hlc, o.hlc);
            int n = Math.max(idPrefix.length, o.idPrefix.length);
            for (int i = 0; i < n; i++) {
                int a = i < idPrefix.length ? idPrefix[i] & 0xff : 0;
                int b = i < o.idPrefix.length ? o.idPrefix[i] & 0xff : 0;
                if (a != b) return Integer.compare(a, b);
            }
            return 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Bound b && hlc == b.hlc && Arrays.equals(idPrefix, b.idPrefix);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(hlc) * 31 + Arrays.hashCode(idPrefix);
        }

        @Override
        public String toString() {
            return isInfinity() ? "Bound[infinity]" : "Bound[" + hlc + "/" + HexFormat.of().formatHex(idPrefix) + "]";
        }
    }

    /**
     * One range, ending at {@code upper}. {@code count} and {@code fingerprint} are used by FINGERPRINT only
     * (0 and empty otherwise), {@code ids} by IDLIST only (empty otherwise).
     */
    public record Range(Bound upper, Mode mode, int count, byte[] fingerprint, List<byte[]> ids) {
        public Range {
            Objects.requireNonNull(upper, "upper");
            Objects.requireNonNull(mode, "mode");
            fingerprint = fingerprint == null ? new byte[0] : fingerprint.clone();
            ids = copyIds(ids == null ? List.of() : ids);
            switch (mode) {
                case SKIP -> {
                    if (count != 0 || fingerprint.length != 0 || !ids.isEmpty())
                        throw new IllegalArgumentException("a SKIP range carries nothing");
                }
                case FINGERPRINT -> {
                    if (count < 0) throw new IllegalArgumentException("negative count");
                    if (fingerprint.length != FINGERPRINT_BYTES)
                        throw new IllegalArgumentException("fingerprint of " + fingerprint.length + " bytes");
                    if (!ids.isEmpty()) throw new IllegalArgumentException("a FINGERPRINT range carries no ids");
                }
                case IDLIST -> {
                    if (count != 0 || fingerprint.length != 0)
                        throw new IllegalArgumentException("an IDLIST range carries only ids");
                }
            }
        }

        public static Range skip(Bound upper) {
            return new Range(upper, Mode.SKIP, 0, null, List.of());
        }

        public static Range fingerprint(Bound upper, int count, byte[] fingerprint) {
            return new Range(upper, Mode.FINGERPRINT, count, fingerprint, List.of());
        }

        public static Range idList(Bound upper, List<byte[]> ids) {
            return new Range(upper, Mode.IDLIST, 0, null, ids);
        }

        @Override
        public byte[] fingerprint() {
            return fingerprint.clone();
        }

        /** The ids (copies). */
        @Override
        public List<byte[]> ids() {
            return copyIds(ids);
        }

        /** Number of ids of an IDLIST range. */
        public int idCount() {
            return ids.size();
        }

        /** Whether this range's fingerprint equals {@code fp}, without copying. */
        public boolean fingerprintEquals(byte[] fp) {
            return Arrays.equals(fingerprint, fp);
        }

        /** Bytes of this range on the wire, given the previous finite bound's hlc in the message. */
        public int encodedSize(long previousHlc) {
            int n = boundSize(upper, previousHlc) + 1;
            return switch (mode) {
                case SKIP -> n;
                case FINGERPRINT -> n + varintSize(count) + FINGERPRINT_BYTES;
                case IDLIST -> n + varintSize(ids.size()) + ids.size() * ID_BYTES;
            };
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Range r && upper.equals(r.upper) && mode == r.mode && count == r.count
                    && Arrays.equals(fingerprint, r.fingerprint) && idsEqual(ids, r.ids);
        }

        @Override
        public int hashCode() {
            int h = Objects.hash(upper, mode, count) * 31 + Arrays.hashCode(fingerprint);
            for (byte[] id : ids) h = h * 31 + Arrays.hashCode(id);
            return h;
        }

        @Override
        public String toString() {
            return switch (mode) {
                case SKIP -> "SKIP(" + upper + ")";
                case FINGERPRINT -> "FINGERPRINT(" + upper + ", " + count + ", " + HexFormat.of().formatHex(fingerprint) + ")";
                case IDLIST -> "IDLIST(" + upper + ", " + ids.size() + " ids)";
            };
        }
    }

    /** @throws IllegalArgumentException if the message breaks any rule that {@link #decode} enforces */
    public ReconcileMessage {
        ranges = List.copyOf(ranges);
        need = copyIds(need);
        String problem = check(ranges, need.size());
        if (problem != null) throw new IllegalArgumentException(problem);
        int size = encodedSize(ranges, need.size());
        if (size > MAX_MESSAGE_BYTES) throw new IllegalArgumentException("message of " + size + " bytes is over the limit");
    }

    /** The need list (copies). */
    @Override
    public List<byte[]> need() {
        return copyIds(need);
    }

    /** Number of ids in the need list. */
    public int needCount() {
        return need.size();
    }

    /** Bytes of the encoded message. */
    public int encodedSize() {
        return encodedSize(ranges, need.size());
    }

    /** Bytes of a message with these ranges and {@code needCount} need ids. */
    public static int encodedSize(List<Range> ranges, int needCount) {
        int n = 1 + varintSize(ranges.size());
        long prev = 0;
        for (Range r : ranges) {
            n += r.encodedSize(prev);
            if (!r.upper.isInfinity()) prev = r.upper.hlc;
        }
        return n + varintSize(needCount) + needCount * ID_BYTES;
    }

    /** Bytes of a bound on the wire, given the previous finite bound's hlc. */
    public static int boundSize(Bound b, long previousHlc) {
        return b.isInfinity() ? 2 : varintSize(b.hlc - previousHlc + 1) + 1 + b.idPrefix.length;
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(encodedSize());
        out.write(VERSION);
        writeVarint(out, ranges.size());
        long prev = 0;
        for (Range r : ranges) {
            Bound b = r.upper;
            if (b.isInfinity()) {
                writeVarint(out, 0);
                out.write(0);
            } else {
                writeVarint(out, b.hlc - prev + 1);
                out.write(b.idPrefix.length);
                out.write(b.idPrefix, 0, b.idPrefix.length);
                prev = b.hlc;
            }
            out.write(r.mode.code);
            switch (r.mode) {
                case SKIP -> { }
                case FINGERPRINT -> {
                    writeVarint(out, r.count);
                    out.write(r.fingerprint, 0, FINGERPRINT_BYTES);
                }
                case IDLIST -> {
                    writeVarint(out, r.ids.size());
                    for (byte[] id : r.ids) out.write(id, 0, ID_BYTES);
                }
            }
        }
        writeVarint(out, need.size());
        for (byte[] id : need) out.write(id, 0, ID_BYTES);
        return out.toByteArray();
    }

    /** Parses one message, checking every length and rule of the layout. */
    public static ReconcileMessage decode(byte[] bytes) throws WireFormatException {
        if (bytes == null) throw new WireFormatException("no reconciliation message");
        if (bytes.length > MAX_MESSAGE_BYTES)
            throw new WireFormatException("reconciliation message of " + bytes.length + " bytes is over the limit");
        Reader in = new Reader(bytes);
        int version = in.u8();
        if (version != VERSION) throw new WireFormatException("unknown reconciliation message version " + version);
        long nRanges = in.varint();
        if (nRanges > MAX_RANGES) throw new WireFormatException(nRanges + " ranges; the limit is " + MAX_RANGES);
        List<Range> ranges = new ArrayList<>((int) nRanges);
        long prevHlc = 0;
        Bound prev = Bound.MIN;
        int totalIds = 0;
        for (int i = 0; i < nRanges; i++) {
            long code = in.varint();
            int prefixLength = in.u8();
            if (prefixLength > ID_BYTES) throw new WireFormatException("bound prefix of " + prefixLength + " bytes");
            Bound upper;
            if (code == 0) {
                if (prefixLength != 0) throw new WireFormatException("infinity bound with a prefix");
                upper = Bound.INFINITY;
            } else {
                long delta = code - 1; // code is at most 2^64-1 read unsigned; negative means over 2^63
                if (code < 0 || delta > Long.MAX_VALUE - 1 - prevHlc)
                    throw new WireFormatException("bound hlc out of range");
                long hlc = prevHlc + delta;
                upper = new Bound(hlc, in.bytes(prefixLength));
                prevHlc = hlc;
            }
            if (prev.isInfinity()) throw new WireFormatException("a range after the infinity bound");
            if (upper.compareTo(prev) <= 0) throw new WireFormatException("range bounds are not strictly increasing");
            prev = upper;
            int mode = in.u8();
            switch (mode) {
                case 0 -> ranges.add(Range.skip(upper));
                case 1 -> {
                    long count = in.varint();
                    if (count < 0 || count > MAX_COUNT) throw new WireFormatException("range count over the limit");
                    ranges.add(Range.fingerprint(upper, (int) count, in.bytes(FINGERPRINT_BYTES)));
                }
                case 2 -> {
                    long n = in.varint();
                    if (n < 0 || n > MAX_IDS - totalIds) throw new WireFormatException("more than " + MAX_IDS + " ids");
                    totalIds += (int) n;
                    ranges.add(Range.idList(upper, in.ids((int) n)));
                }
                default -> throw new WireFormatException("unknown range mode " + mode);
            }
        }
        long n = in.varint();
        if (n < 0 || n > MAX_IDS - totalIds) throw new WireFormatException("more than " + MAX_IDS + " ids");
        List<byte[]> need = in.ids((int) n);
        if (in.remaining() != 0) throw new WireFormatException(in.remaining() + " trailing bytes after the message");
        try {
            return new ReconcileMessage(ranges, need);
        } catch (IllegalArgumentException e) { // not expected: decode checks every rule the constructor does
            throw new WireFormatException(e.getMessage());
        }
    }

    /**
     * The fingerprint of a set of {@code count} items whose ids sum (as 256-bit little-endian integers, mod 2^256)
     * to {@code sum}, given as four 64-bit limbs, least significant first.
     */
    public static byte[] fingerprint(long[] sum, long count) {
        byte[] buf = new byte[ID_BYTES + MAX_VARINT_BYTES];
        for (int limb = 0; limb < 4; limb++) {
            long v = sum[limb];
            for (int i = 0; i < 8; i++) buf[limb * 8 + i] = (byte) (v >>> (8 * i));
        }
        int len = putVarint(buf, ID_BYTES, count);
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update(buf, 0, ID_BYTES + len);
        return Arrays.copyOf(sha.digest(), FINGERPRINT_BYTES);
    }

    /** Length of {@code v} (read unsigned) as a LEB128 varint. */
    public static int varintSize(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    /** Writes {@code v} (unsigned) as a LEB128 varint at {@code off}; returns the number of bytes written. */
    public static int putVarint(byte[] dst, int off, long v) {
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            dst[off + n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        dst[off + n++] = (byte) v;
        return n;
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        byte[] b = new byte[MAX_VARINT_BYTES];
        out.write(b, 0, putVarint(b, 0, v));
    }

    /** Null if the ranges and need count obey the rules, else what is wrong. */
    private static String check(List<Range> ranges, int needCount) {
        if (ranges.size() > MAX_RANGES) return ranges.size() + " ranges; the limit is " + MAX_RANGES;
        Bound prev = Bound.MIN;
        long ids = needCount;
        for (Range r : ranges) {
            Objects.requireNonNull(r, "range");
            if (prev.isInfinity()) return "a range after the infinity bound";
            if (r.upper.compareTo(prev) <= 0) return "range bounds are not strictly increasing";
            prev = r.upper;
            ids += r.ids.size();
        }
        if (ids > MAX_IDS) return ids + " ids; the limit is " + MAX_IDS;
        return null;
    }

    private static List<byte[]> copyIds(List<byte[]> ids) {
        List<byte[]> copy = new ArrayList<>(ids.size());
        for (byte[] id : ids) {
            if (id == null || id.length != ID_BYTES) throw new IllegalArgumentException("an id must have " + ID_BYTES + " bytes");
            copy.add(id.clone());
        }
        return List.copyOf(copy);
    }

    private static boolean idsEqual(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) if (!Arrays.equals(a.get(i), b.get(i))) return false;
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReconcileMessage m && ranges.equals(m.ranges) && idsEqual(need, m.need);
    }

    @Override
    public int hashCode() {
        int h = ranges.hashCode();
        for (byte[] id : need) h = h * 31 + Arrays.hashCode(id);
        return h;
    }

    @Override
    public String toString() {
        return "ReconcileMessage" + ranges + " need " + need.size();
    }

    /** Bounds-checked reading; every overrun is a WireFormatException. */
    private static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        int remaining() {
            return b.length - pos;
        }

        int u8() throws WireFormatException {
            if (pos >= b.length) throw new WireFormatException("reconciliation message is truncated");
            return b[pos++] & 0xff;
        }

        /** An unsigned varint, as a long (negative if above 2^63-1). */
        long varint() throws WireFormatException {
            long v = 0;
            for (int i = 0; i < MAX_VARINT_BYTES; i++) {
                int x = u8();
                if (i == MAX_VARINT_BYTES - 1 && x > 1) throw new WireFormatException("varint over 64 bits");
                v |= (long) (x & 0x7F) << (7 * i);
                if ((x & 0x80) == 0) {
                    if (x == 0 && i > 0) throw new WireFormatException("varint with a redundant zero byte");
                    return v;
                }
            }
            throw new WireFormatException("varint over 64 bits");
        }

        byte[] bytes(int n) throws WireFormatException {
            if (n > remaining()) throw new WireFormatException("reconciliation message is truncated");
            byte[] r = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return r;
        }

        List<byte[]> ids(int n) throws WireFormatException {
            if ((long) n * ID_BYTES > remaining()) throw new WireFormatException("reconciliation message is truncated");
            List<byte[]> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) ids.add(bytes(ID_BYTES));
            return ids;
        }
    }
}

package org.parley.overlay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The persistent list of supernodes a client or supernode has met (at most {@link #MAX} entries), ranked by
 * recent success and spare capacity, so that it can rejoin when the seeds are down. Pure logic; the owner
 * saves {@link #encode()} to disk and loads it with {@link #decode}.
 */
public final class HostCache {
    public static final int MAX = 200;
    /** A supernode that failed within this long is tried only after the others. */
    public static final long FAILURE_QUARANTINE_MILLIS = 30_000;

    public static final class Entry {
        final String address;
        int successes, failures;
        long lastSuccess, lastFailure;
        int capacity, load;

        Entry(String address) {
            this.address = address;
        }

        public String address() {
            return address;
        }

        public int successes() {
            return successes;
        }

        public int failures() {
            return failures;
        }

        public long lastSuccess() {
            return lastSuccess;
        }

        double score(long now) {
            double s = 0;
            if (lastSuccess > 0) s += 10.0 / (1.0 + (now - lastSuccess) / 3_600_000.0); // decays over hours
            s += Math.min(5, successes) * 0.5;
            if (capacity > 0) s += 3.0 * Math.max(0, capacity - load) / capacity;
            if (lastFailure > lastSuccess) s -= Math.min(8, failures) * 1.5;
            return s;
        }
    }

    private final List<Entry> entries = new ArrayList<>();
    /** Per-client tie-break among equally ranked supernodes (0 = keep the order they were learned in). */
    private long salt;

    /**
     * Breaks ties (equal scores, the seeds) in a per-client random order, so that a crowd of clients with the
     * same knowledge does not all pick the same supernode first.
     */
    public void tieBreak(long salt) {
        this.salt = salt;
    }

    private long rank(String address) {
        if (salt == 0) return 0;
        long h = salt ^ address.hashCode() * 0x9E3779B97F4A7C15L;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        return h ^ (h >>> 33);
    }

    private Entry find(String address) {
        for (Entry e : entries) if (e.address.equals(address)) return e;
        return null;
    }

    private Entry findOrAdd(String address, long now) {
        Entry e = find(address);
        if (e != null) return e;
        e = new Entry(address);
        entries.add(e);
        if (entries.size() > MAX) {
            Entry worst = null;
            for (Entry x : entries) {
                if (x != e && (worst == null || x.score(now) < worst.score(now))) worst = x;
            }
            entries.remove(worst);
        }
        return e;
    }

    /** Attached (or joined) successfully. */
    public void success(String address, long now) {
        Entry e = findOrAdd(address, now);
        e.successes++;
        e.failures = 0;
        e.lastSuccess = now;
    }

    /** Could not reach it, or it went away. */
    public void failure(String address, long now) {
        Entry e = findOrAdd(address, now); // a failing seed is remembered too, so that it is tried last
        e.failures++;
        e.lastFailure = now;
    }

    /** Heard of it (from a Welcome, a redirect or the overlay), with its load when known (capacity 0 = unknown). */
    public void learned(String address, int capacity, int load, long now) {
        Entry e = findOrAdd(address, now);
        if (capacity > 0) {
            e.capacity = capacity;
            e.load = load;
        }
    }

    public int size() {
        return entries.size();
    }

    public List<Entry> entries() {
        return List.copyOf(entries);
    }

    /** Addresses, best first; recently failed ones last. */
    public List<String> ranked(long now) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingDouble((Entry e) -> quarantined(e, now) ? 1 : 0)
                .thenComparing(Comparator.comparingDouble((Entry e) -> e.score(now)).reversed())
                .thenComparingLong(e -> rank(e.address)));
        List<String> out = new ArrayList<>(sorted.size());
        for (Entry e : sorted) out.add(e.address);
        return out;
    }

    private static boolean quarantined(Entry e, long now) {
        return e.lastFailure > e.lastSuccess && now - e.lastFailure < FAILURE_QUARANTINE_MILLIS;
    }

    /**
     * The order to try supernodes in: fresh redirect hints, then the cache ranked, then seeds; at most {@code max}.
     */
    public List<String> attachOrder(List<String> hints, List<String> seeds, long now, int max) {
        Set<String> out = new LinkedHashSet<>();
        for (String h : hints) {
            Entry e = find(h);
            if (e == null || !quarantined(e, now)) out.add(h);
        }
        List<String> ranked = ranked(now);
        for (String a : ranked) {
            Entry e = find(a);
            if (!quarantined(e, now)) out.add(a);
        }
        List<String> shuffled = new ArrayList<>(seeds);
        shuffled.sort(Comparator.comparingLong(this::rank));
        for (String s : shuffled) {
            Entry e = find(s);
            if (e == null || !quarantined(e, now)) out.add(s);
        }
        // everything failed recently: try the quarantined ones too rather than nothing
        if (out.isEmpty()) {
            out.addAll(hints);
            out.addAll(ranked);
            out.addAll(seeds);
        }
        List<String> l = new ArrayList<>(out);
        return l.size() > max ? l.subList(0, max) : l;
    }

    /** One line per entry: address successes failures lastSuccess lastFailure capacity load. */
    public String encode() {
        StringBuilder b = new StringBuilder("# parley host cache v1\n");
        for (Entry e : entries) {
            b.append(e.address).append(' ').append(e.successes).append(' ').append(e.failures).append(' ')
                    .append(e.lastSuccess).append(' ').append(e.lastFailure).append(' ').append(e.capacity).append(' ')
                    .append(e.load).append('\n');
        }
        return b.toString();
    }

    /** Parses {@link #encode()} output; malformed lines are skipped (a damaged cache only costs hints). */
    public static HostCache decode(String text) {
        HostCache c = new HostCache();
        for (String line : text.split("\n")) {
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] f = line.split(" ");
            if (f.length != 7 || f[0].length() > 300) continue;
            try {
                Entry e = new Entry(f[0]);
                e.successes = Integer.parseInt(f[1]);
                e.failures = Integer.parseInt(f[2]);
                e.lastSuccess = Long.parseLong(f[3]);
                e.lastFailure = Long.parseLong(f[4]);
                e.capacity = Integer.parseInt(f[5]);
                e.load = Integer.parseInt(f[6]);
                if (c.find(e.address) == null && c.entries.size() < MAX) c.entries.add(e);
            } catch (NumberFormatException ignored) {
                // skip
            }
        }
        return c;
    }
}

package org.parley.chat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** {@link EventStore} in an embedded SQLite file (WAL, synchronous=FULL: a returned write survives a crash). */
public final class SqliteEventStore implements EventStore {
    private static final int SCHEMA = 1;
    private final Connection db;
    private final Path file;

    public SqliteEventStore(Path file) {
        this.file = file;
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("CREATE TABLE IF NOT EXISTS chat_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS events (
                          id BLOB PRIMARY KEY, conv BLOB NOT NULL, hlc INTEGER NOT NULL, kind INTEGER NOT NULL,
                          author TEXT NOT NULL, target BLOB, encoded BLOB NOT NULL, stored_at INTEGER NOT NULL, via TEXT)""");
                s.execute("CREATE INDEX IF NOT EXISTS events_order ON events(conv, hlc, id)");
                s.execute("CREATE INDEX IF NOT EXISTS events_kind ON events(conv, kind, hlc, id)");
                s.execute("CREATE INDEX IF NOT EXISTS events_author ON events(author, hlc)");
                s.execute("CREATE TABLE IF NOT EXISTS certificates (fp BLOB PRIMARY KEY, device TEXT NOT NULL, der BLOB NOT NULL)");
                s.execute("CREATE INDEX IF NOT EXISTS certificates_device ON certificates(device)");
                s.execute("CREATE TABLE IF NOT EXISTS receipts (event BLOB NOT NULL, user TEXT NOT NULL, path TEXT, at INTEGER NOT NULL, PRIMARY KEY(event, user))");
                s.execute("INSERT OR IGNORE INTO chat_meta(key, value) VALUES ('schema', '" + SCHEMA + "')");
            }
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT value FROM chat_meta WHERE key='schema'")) {
                if (r.next() && Integer.parseInt(r.getString(1)) > SCHEMA) {
                    throw new IllegalStateException("event store " + file + " was written by a newer Parley");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open event store " + file + ": " + e.getMessage());
        }
    }

    private IllegalStateException failure(String what, SQLException e) {
        return new IllegalStateException("event store " + file.getFileName() + ": cannot " + what + ": " + e.getMessage());
    }

    @Override
    public synchronized void insert(List<StoredEvent> events, Collection<byte[]> certificates, String via) {
        if (events.isEmpty() && certificates.isEmpty()) return;
        try {
            db.setAutoCommit(false);
            try (PreparedStatement p = db.prepareStatement(
                    "INSERT OR IGNORE INTO events(id, conv, hlc, kind, author, target, encoded, stored_at, via) VALUES (?,?,?,?,?,?,?,?,?)");
                 PreparedStatement c = db.prepareStatement("INSERT OR IGNORE INTO certificates(fp, device, der) VALUES (?,?,?)")) {
                for (StoredEvent e : events) {
                    p.setBytes(1, e.id());
                    p.setBytes(2, e.conversation());
                    p.setLong(3, e.event().hlc());
                    p.setInt(4, e.event().kindCode());
                    p.setString(5, e.event().author());
                    p.setBytes(6, e.event().target().length == 0 ? null : e.event().target());
                    p.setBytes(7, e.encoded());
                    p.setLong(8, e.storedAtMillis());
                    p.setString(9, via);
                    p.addBatch();
                }
                p.executeBatch();
                for (byte[] der : certificates) {
                    c.setBytes(1, org.parley.protocol.ChatEvent.sha256(der));
                    c.setString(2, deviceOf(der));
                    c.setBytes(3, der);
                    c.addBatch();
                }
                c.executeBatch();
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure("store events", e);
        }
    }

    private static String deviceOf(byte[] der) {
        var x = org.parley.identity.Keys.certificate(der);
        return org.parley.identity.Keys.deviceId(x.getPublicKey());
    }

    /** Runs a query whose first two columns are encoded and stored_at, with the given parameters. */
    private List<StoredEvent> events(String sql, Object... params) {
        List<StoredEvent> out = new ArrayList<>();
        try (PreparedStatement p = db.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) p.setObject(i + 1, params[i]);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(StoredEvent.load(r.getBytes(1), r.getLong(2)));
            }
        } catch (SQLException e) {
            throw failure("read events", e);
        }
        return out;
    }

    @Override
    public synchronized List<byte[]> conversationIds() {
        List<byte[]> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT DISTINCT conv FROM events")) {
            while (r.next()) out.add(r.getBytes(1));
        } catch (SQLException e) {
            throw failure("list conversations", e);
        }
        return out;
    }

    @Override
    public synchronized void forEach(byte[] conversation, Consumer<StoredEvent> sink) {
        try (PreparedStatement p = db.prepareStatement("SELECT encoded, stored_at FROM events WHERE conv=? ORDER BY hlc, id")) {
            p.setBytes(1, conversation);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) sink.accept(StoredEvent.load(r.getBytes(1), r.getLong(2)));
            }
        } catch (SQLException e) {
            throw failure("read events", e);
        }
    }

    @Override
    public synchronized List<StoredEvent> get(Collection<byte[]> ids) {
        List<StoredEvent> out = new ArrayList<>(ids.size());
        List<byte[]> all = new ArrayList<>(ids);
        for (int from = 0; from < all.size(); from += 500) { // one query per 500 ids (SQLite's parameter limit is 999+)
            List<byte[]> chunk = all.subList(from, Math.min(all.size(), from + 500));
            out.addAll(events("SELECT encoded, stored_at FROM events WHERE id IN ("
                    + String.join(",", java.util.Collections.nCopies(chunk.size(), "?")) + ")", chunk.toArray()));
        }
        return out;
    }

    @Override
    public synchronized List<StoredEvent> last(byte[] conversation, Set<Integer> kindCodes, int limit) {
        String kinds = kindCodes.stream().map(String::valueOf).collect(Collectors.joining(","));
        List<StoredEvent> out = events("SELECT encoded, stored_at FROM events WHERE conv=? AND kind IN (" + kinds
                + ") ORDER BY hlc DESC, id DESC LIMIT ?", conversation, Math.max(1, limit));
        Collections.reverse(out);
        return out;
    }

    @Override
    public synchronized List<StoredEvent> modifiersSince(byte[] conversation, long fromHlc) {
        return events("SELECT encoded, stored_at FROM events WHERE conv=? AND hlc>=? AND target IS NOT NULL ORDER BY hlc, id",
                conversation, fromHlc);
    }

    @Override
    public synchronized List<byte[]> certificates(String deviceHex) {
        List<byte[]> out = new ArrayList<>();
        try (PreparedStatement p = db.prepareStatement("SELECT der FROM certificates WHERE device=?")) {
            p.setString(1, deviceHex);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(r.getBytes(1));
            }
        } catch (SQLException e) {
            throw failure("read certificates", e);
        }
        return out;
    }

    @Override
    public synchronized int addReceipts(Collection<byte[]> eventIds, String user, String path) {
        if (eventIds.isEmpty()) return 0;
        try (PreparedStatement p = db.prepareStatement("INSERT OR IGNORE INTO receipts(event, user, path, at) VALUES (?,?,?,?)")) {
            db.setAutoCommit(false);
            int n = 0;
            try {
                for (byte[] id : eventIds) {
                    p.setBytes(1, id);
                    p.setString(2, user);
                    p.setString(3, path);
                    p.setLong(4, System.currentTimeMillis());
                    n += p.executeUpdate();
                }
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
            return n;
        } catch (SQLException e) {
            throw failure("store receipts", e);
        }
    }

    @Override
    public synchronized Map<Id, Set<String>> receipts(Collection<byte[]> eventIds) {
        Map<Id, Set<String>> out = new HashMap<>();
        try (PreparedStatement p = db.prepareStatement("SELECT user FROM receipts WHERE event=?")) {
            for (byte[] id : eventIds) {
                p.setBytes(1, id);
                try (ResultSet r = p.executeQuery()) {
                    Set<String> users = new TreeSet<>();
                    while (r.next()) users.add(r.getString(1));
                    if (!users.isEmpty()) out.put(new Id(id), users);
                }
            }
        } catch (SQLException e) {
            throw failure("read receipts", e);
        }
        return out;
    }

    @Override
    public synchronized String receiptPath(byte[] eventId) {
        return oneString("SELECT path FROM receipts WHERE event=? ORDER BY at LIMIT 1", eventId);
    }

    @Override
    public synchronized String via(byte[] eventId) {
        return oneString("SELECT via FROM events WHERE id=?", eventId);
    }

    private String oneString(String sql, byte[] id) {
        try (PreparedStatement p = db.prepareStatement(sql)) {
            p.setBytes(1, id);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        } catch (SQLException e) {
            throw failure("read events", e);
        }
    }

    private static final String UNCONFIRMED = " FROM events e WHERE e.author=? AND e.hlc>=? AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.event=e.id)";

    @Override
    public synchronized List<StoredEvent> unconfirmed(String author, long sinceHlc, int limit) {
        return events("SELECT e.encoded, e.stored_at" + UNCONFIRMED + " ORDER BY e.hlc, e.id LIMIT ?", author, sinceHlc,
                Math.max(1, limit));
    }

    @Override
    public synchronized int unconfirmedCount(String author, long sinceHlc) {
        try (PreparedStatement p = db.prepareStatement("SELECT COUNT(*)" + UNCONFIRMED)) {
            p.setString(1, author);
            p.setLong(2, sinceHlc);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        } catch (SQLException e) {
            throw failure("count events", e);
        }
    }

    @Override
    public synchronized long maxHlc() {
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT COALESCE(MAX(hlc), 0) FROM events")) {
            return r.next() ? r.getLong(1) : 0;
        } catch (SQLException e) {
            throw failure("read events", e);
        }
    }

    @Override
    public synchronized long count() {
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM events")) {
            return r.next() ? r.getLong(1) : 0;
        } catch (SQLException e) {
            throw failure("count events", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}

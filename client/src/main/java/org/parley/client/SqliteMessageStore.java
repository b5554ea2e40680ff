package org.parley.client;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@link MessageStore} in an embedded SQLite file (WAL, synchronous=FULL: a returned write survives a crash). */
public final class SqliteMessageStore implements MessageStore {
    private static final int SCHEMA = 1;
    private final Connection db;

    public SqliteMessageStore(Path file) {
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS messages (
                          id TEXT PRIMARY KEY, peer TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
                          hlc INTEGER NOT NULL, sent_at INTEGER NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL,
                          path TEXT, stored_at INTEGER NOT NULL)""");
                s.execute("CREATE INDEX IF NOT EXISTS messages_peer ON messages(peer, hlc, id)");
                s.execute("CREATE INDEX IF NOT EXISTS messages_state ON messages(state, peer)");
                s.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '" + SCHEMA + "')");
            }
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT value FROM meta WHERE key='schema'")) {
                if (r.next() && Integer.parseInt(r.getString(1)) > SCHEMA) {
                    throw new IllegalStateException("message store " + file + " was written by a newer Parley");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open message store " + file + ": " + e.getMessage());
        }
    }

    private static StoredMessage row(ResultSet r) throws SQLException {
        return new StoredMessage(r.getString("id"), r.getString("peer"), r.getString("sender"), r.getString("recipient"),
                r.getLong("hlc"), r.getLong("sent_at"), r.getString("text"), r.getString("state"), r.getString("path"),
                r.getLong("stored_at"));
    }

    private int insert(String verb, StoredMessage m) throws SQLException {
        try (PreparedStatement p = db.prepareStatement(verb + " INTO messages(id, peer, sender, recipient, hlc, sent_at, text, state, path, stored_at) VALUES (?,?,?,?,?,?,?,?,?,?)")) {
            p.setString(1, m.id());
            p.setString(2, m.peer());
            p.setString(3, m.sender());
            p.setString(4, m.recipient());
            p.setLong(5, m.hlc());
            p.setLong(6, m.sentAtMillis());
            p.setString(7, m.text());
            p.setString(8, m.state());
            p.setString(9, m.path());
            p.setLong(10, m.storedAtMillis());
            return p.executeUpdate();
        }
    }

    @Override
    public synchronized void insertOutgoing(StoredMessage m) {
        try {
            insert("INSERT", m);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store message: " + e.getMessage());
        }
    }

    @Override
    public synchronized boolean insertIncoming(StoredMessage m) {
        try {
            return insert("INSERT OR IGNORE", m) == 1;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store message: " + e.getMessage());
        }
    }

    @Override
    public synchronized boolean markDelivered(String id, String path) {
        try (PreparedStatement p = db.prepareStatement("UPDATE messages SET state='delivered', path=? WHERE id=? AND state='queued'")) {
            p.setString(1, path);
            p.setString(2, id);
            return p.executeUpdate() == 1;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot update message: " + e.getMessage());
        }
    }

    @Override
    public synchronized List<StoredMessage> queued(String peer) {
        return query("SELECT * FROM messages WHERE state='queued' AND peer=? ORDER BY hlc, id", peer);
    }

    @Override
    public synchronized List<String> queuedPeers() {
        List<String> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT DISTINCT peer FROM messages WHERE state='queued'")) {
            while (r.next()) out.add(r.getString(1));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read messages: " + e.getMessage());
        }
        return out;
    }

    @Override
    public synchronized int queuedCount() {
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT COUNT(*) FROM messages WHERE state='queued'")) {
            return r.next() ? r.getInt(1) : 0;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read messages: " + e.getMessage());
        }
    }

    @Override
    public synchronized List<StoredMessage> history(String peer, int limit) {
        List<StoredMessage> l = query("SELECT * FROM messages WHERE peer=? ORDER BY hlc DESC, id DESC LIMIT " + Math.max(1, limit), peer);
        Collections.reverse(l);
        return l;
    }

    @Override
    public synchronized long maxHlc() {
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT COALESCE(MAX(hlc), 0) FROM messages")) {
            return r.next() ? r.getLong(1) : 0;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read messages: " + e.getMessage());
        }
    }

    private List<StoredMessage> query(String sql, String arg) {
        List<StoredMessage> out = new ArrayList<>();
        try (PreparedStatement p = db.prepareStatement(sql)) {
            p.setString(1, arg);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) out.add(row(r));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read messages: " + e.getMessage());
        }
        return out;
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing anyway
        }
    }
}

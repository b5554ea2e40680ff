package org.parley.login;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.parley.identity.Policy;
import org.parley.identity.Role;
import org.parley.identity.UserNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link AccountStore} in one SQLite file (WAL journal, synchronous=FULL, busy_timeout 5 s). One
 * connection is shared and guarded by a lock; password hashing happens outside the lock.
 */
public final class SqliteAccountStore implements AccountStore {
    /** Schema version written by this code. */
    public static final int SCHEMA_VERSION = 1;
    private static final Logger LOG = LoggerFactory.getLogger(SqliteAccountStore.class);

    private final Path file;
    private final Connection db;
    private final ReentrantLock lock = new ReentrantLock();

    private SqliteAccountStore(Path file, Connection db) {
        this.file = file;
        this.db = db;
    }

    /**
     * Opens (creating if needed) the database file and its schema.
     *
     * @throws IllegalStateException (one line) if the file cannot be opened or has a newer schema
     */
    public static SqliteAccountStore open(Path file) {
        Connection c = null;
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 5000");
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = FULL");
                s.execute("PRAGMA foreign_keys = ON");
            }
            migrate(c, file);
            return new SqliteAccountStore(file, c);
        } catch (SQLException | java.io.IOException e) {
            closeQuietly(c);
            throw new IllegalStateException("cannot open account database " + file + ": " + oneLine(e));
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static void migrate(Connection c, Path file) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int version = 0;
            try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                if (rs.next()) version = rs.getInt(1);
            }
            if (version > SCHEMA_VERSION) {
                c.rollback();
                throw new IllegalStateException("account database " + file + " has schema version " + version
                        + ", newer than this Parley supports (" + SCHEMA_VERSION + "): upgrade Parley");
            }
            if (version < 1) {
                s.execute("""
                        CREATE TABLE accounts (
                          name TEXT PRIMARY KEY,
                          role TEXT NOT NULL,
                          disabled INTEGER NOT NULL DEFAULT 0,
                          password_hash TEXT NOT NULL,
                          plan TEXT NOT NULL,
                          min_client_version INTEGER NOT NULL,
                          allowed_hours TEXT NOT NULL,
                          bandwidth_class TEXT NOT NULL,
                          created_ms INTEGER NOT NULL)""");
                s.execute("""
                        CREATE TABLE devices (
                          device_id TEXT PRIMARY KEY,
                          account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
                          public_key BLOB NOT NULL,
                          refresh_hash TEXT NOT NULL,
                          revoked INTEGER NOT NULL DEFAULT 0,
                          last_issued_ms INTEGER NOT NULL)""");
                s.execute("CREATE INDEX devices_account ON devices(account)");
                s.execute("DELETE FROM schema_version");
                s.execute("INSERT INTO schema_version (version) VALUES (1)");
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException ignored) {
                // the original failure matters
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public Account add(String user, Role role, char[] password) {
        UserNames.check(user);
        if (role == null) throw new IllegalArgumentException("role is missing");
        if (find(user).isPresent()) throw new IllegalArgumentException("account '" + user + "' already exists");
        String hash = Passwords.hash(password);
        Instant created = Instant.ofEpochMilli(System.currentTimeMillis());
        Policy p = Policy.DEFAULT;
        return locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    INSERT INTO accounts (name, role, disabled, password_hash, plan, min_client_version,
                      allowed_hours, bandwidth_class, created_ms) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)""")) {
                ps.setString(1, user);
                ps.setString(2, role.wireName());
                ps.setString(3, hash);
                ps.setString(4, p.plan());
                ps.setInt(5, p.minClientVersion());
                ps.setString(6, p.allowedHours());
                ps.setString(7, p.bandwidthClass());
                ps.setLong(8, created.toEpochMilli());
                ps.executeUpdate();
            } catch (SQLException e) {
                if (e.getMessage() != null && e.getMessage().contains("UNIQUE")) {
                    throw new IllegalArgumentException("account '" + user + "' already exists");
                }
                throw e;
            }
            LOG.info("account {} added with role {}", user, role.wireName());
            return new Account(user, role, false, p, created);
        });
    }

    @Override
    public Optional<Account> find(String user) {
        if (!UserNames.isValid(user)) return Optional.empty();
        return locked(() -> {
            try (PreparedStatement ps = db.prepareStatement(ACCOUNT_COLUMNS + " WHERE name = ?")) {
                ps.setString(1, user);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(account(rs)) : Optional.<Account>empty();
                }
            }
        });
    }

    @Override
    public List<Account> list() {
        return locked(() -> {
            List<Account> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(ACCOUNT_COLUMNS + " ORDER BY name");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(account(rs));
            }
            return List.copyOf(out);
        });
    }

    @Override
    public boolean setDisabled(String user, boolean disabled) {
        if (!UserNames.isValid(user)) return false;
        boolean changed = locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("UPDATE accounts SET disabled = ? WHERE name = ?")) {
                ps.setInt(1, disabled ? 1 : 0);
                ps.setString(2, user);
                return ps.executeUpdate() == 1;
            }
        });
        if (changed) LOG.info("account {} {}", user, disabled ? "disabled" : "enabled");
        return changed;
    }

    @Override
    public boolean setPassword(String user, char[] password) {
        if (!UserNames.isValid(user)) return false;
        String hash = Passwords.hash(password);
        boolean changed = locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("UPDATE accounts SET password_hash = ? WHERE name = ?")) {
                ps.setString(1, hash);
                ps.setString(2, user);
                return ps.executeUpdate() == 1;
            }
        });
        if (changed) LOG.info("password of account {} changed", user);
        return changed;
    }

    @Override
    public Optional<String> passwordHash(String user) {
        if (!UserNames.isValid(user)) return Optional.empty();
        return locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("SELECT password_hash FROM accounts WHERE name = ?")) {
                ps.setString(1, user);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    @Override
    public void setPolicy(String user, Policy policy) {
        if (policy == null) throw new IllegalArgumentException("policy is missing");
        boolean changed = UserNames.isValid(user) && locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    UPDATE accounts SET plan = ?, min_client_version = ?, allowed_hours = ?, bandwidth_class = ?
                    WHERE name = ?""")) {
                ps.setString(1, policy.plan());
                ps.setInt(2, policy.minClientVersion());
                ps.setString(3, policy.allowedHours());
                ps.setString(4, policy.bandwidthClass());
                ps.setString(5, user);
                return ps.executeUpdate() == 1;
            }
        });
        if (!changed) throw new IllegalArgumentException("account '" + user + "' does not exist");
    }

    @Override
    public void upsertDevice(String deviceId, String user, byte[] publicKeySpki, String refreshTokenHash, Instant now) {
        locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("""
                    INSERT INTO devices (device_id, account, public_key, refresh_hash, revoked, last_issued_ms)
                    VALUES (?, ?, ?, ?, 0, ?)
                    ON CONFLICT(device_id) DO UPDATE SET account = excluded.account, public_key = excluded.public_key,
                      refresh_hash = excluded.refresh_hash, revoked = 0, last_issued_ms = excluded.last_issued_ms""")) {
                ps.setString(1, deviceId);
                ps.setString(2, user);
                ps.setBytes(3, publicKeySpki);
                ps.setString(4, refreshTokenHash);
                ps.setLong(5, now.toEpochMilli());
                ps.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public void touchDevice(String deviceId, Instant now) {
        locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("UPDATE devices SET last_issued_ms = ? WHERE device_id = ?")) {
                ps.setLong(1, now.toEpochMilli());
                ps.setString(2, deviceId);
                ps.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public Optional<DeviceRow> findDevice(String deviceId) {
        if (deviceId == null) return Optional.empty();
        return locked(() -> {
            try (PreparedStatement ps = db.prepareStatement(DEVICE_COLUMNS + " WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(device(rs)) : Optional.<DeviceRow>empty();
                }
            }
        });
    }

    @Override
    public void revokeDevice(String deviceId) {
        int n = locked(() -> {
            try (PreparedStatement ps = db.prepareStatement("UPDATE devices SET revoked = 1 WHERE device_id = ?")) {
                ps.setString(1, deviceId);
                return ps.executeUpdate();
            }
        });
        if (n > 0) LOG.info("device {} revoked", deviceId);
    }

    @Override
    public List<DeviceRow> devices(String user) {
        return locked(() -> {
            List<DeviceRow> out = new ArrayList<>();
            try (PreparedStatement ps = db.prepareStatement(DEVICE_COLUMNS
                    + " WHERE account = ? ORDER BY last_issued_ms DESC, device_id")) {
                ps.setString(1, user);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(device(rs));
                }
            }
            return List.copyOf(out);
        });
    }

    @Override
    public void close() {
        lock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            LOG.warn("closing {} failed: {}", file, oneLine(e));
        } finally {
            lock.unlock();
        }
    }

    private static final String ACCOUNT_COLUMNS = """
            SELECT name, role, disabled, plan, min_client_version, allowed_hours, bandwidth_class, created_ms
            FROM accounts""";
    private static final String DEVICE_COLUMNS =
            "SELECT device_id, account, public_key, refresh_hash, revoked, last_issued_ms FROM devices";

    private static Account account(ResultSet rs) throws SQLException {
        return new Account(rs.getString(1), Role.parse(rs.getString(2)), rs.getInt(3) != 0,
                new Policy(rs.getString(4), rs.getInt(5), rs.getString(6), rs.getString(7)),
                Instant.ofEpochMilli(rs.getLong(8)));
    }

    private static DeviceRow device(ResultSet rs) throws SQLException {
        return new DeviceRow(rs.getString(1), rs.getString(2), rs.getBytes(3), rs.getString(4), rs.getInt(5) != 0,
                Instant.ofEpochMilli(rs.getLong(6)));
    }

    private interface Sql<T> {
        T run() throws SQLException;
    }

    private <T> T locked(Sql<T> body) {
        lock.lock();
        try {
            if (db.isClosed()) throw new IllegalStateException("account database " + file + " is closed");
            return body.run();
        } catch (SQLException e) {
            throw new IllegalStateException("account database " + file + " failed: " + oneLine(e), e);
        } finally {
            lock.unlock();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException ignored) {
            // already failing
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl >= 0 ? m.substring(0, nl).strip() : m.strip();
    }
}

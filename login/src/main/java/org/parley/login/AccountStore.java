package org.parley.login;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.parley.identity.Policy;
import org.parley.identity.Role;

/**
 * Accounts and enrolled devices of one network. Implementations are thread-safe and every write is
 * durable when the method returns. {@link SqliteAccountStore} is the default; the interface exists so
 * that another database (PostgreSQL) can follow.
 */
public interface AccountStore extends AutoCloseable {
    /** Shortest accepted password, in characters. */
    int MIN_PASSWORD_CHARS = 8;

    /**
     * Adds an account with the default policy, hashing the password with Argon2id. The caller may wipe
     * {@code password} afterwards.
     *
     * @throws IllegalArgumentException (one line) if the name is invalid, the password is shorter than
     *         {@value #MIN_PASSWORD_CHARS} or longer than {@link org.parley.identity.LoginApi#MAX_PASSWORD_CHARS}
     *         characters, or the account already exists
     */
    Account add(String user, Role role, char[] password);

    Optional<Account> find(String user);

    /** All accounts, ordered by user name. */
    List<Account> list();

    /** Returns false if there is no such account. */
    boolean setDisabled(String user, boolean disabled);

    /**
     * Replaces an account's password (same rules as {@link #add}); returns false if there is no such account.
     */
    boolean setPassword(String user, char[] password);

    /** The stored Argon2id hash in PHC string form ("$argon2id$v=19$m=...") or empty if there is no such account. */
    Optional<String> passwordHash(String user);

    /** @throws IllegalArgumentException if there is no such account */
    void setPolicy(String user, Policy policy);

    /**
     * Records a device after a password login: inserts it, or replaces its owner, key, refresh token hash and
     * issue time (clearing any revocation, since the password was just proven).
     */
    void upsertDevice(String deviceId, String user, byte[] publicKeySpki, String refreshTokenHash, Instant now);

    /** Records that a certificate was issued to the device by renewal. */
    void touchDevice(String deviceId, Instant now);

    Optional<DeviceRow> findDevice(String deviceId);

    /** Refuses further renewals of the device until its next password login; no-op for unknown devices. */
    void revokeDevice(String deviceId);

    /** The user's devices, most recently issued first. */
    List<DeviceRow> devices(String user);

    /** Closes the underlying database; no exception is thrown. */
    @Override
    void close();
}

package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.parley.identity.Keys;
import org.parley.identity.Policy;
import org.parley.identity.Role;

class SqliteAccountStoreTest {
    @TempDir
    Path dir;

    private SqliteAccountStore open() {
        return SqliteAccountStore.open(dir.resolve("login.db"));
    }

    @Test
    void addFindListAndDuplicates() {
        try (SqliteAccountStore s = open()) {
            Account bob = s.add("bob", Role.USER, "correct horse".toCharArray());
            Account alice = s.add("alice", Role.SUPERNODE, "battery staple".toCharArray());
            assertThat(bob.disabled()).isFalse();
            assertThat(bob.policy()).isEqualTo(Policy.DEFAULT);
            assertThat(s.find("alice")).contains(alice);
            assertThat(s.find("nobody")).isEmpty();
            assertThat(s.find("Not A Name")).isEmpty();
            assertThat(s.list()).extracting(Account::user).containsExactly("alice", "bob");
            assertThat(s.list()).extracting(Account::role).containsExactly(Role.SUPERNODE, Role.USER);

            assertThatThrownBy(() -> s.add("alice", Role.USER, "another one".toCharArray()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("account 'alice' already exists");
            assertThat(s.list()).hasSize(2);
        }
    }

    @Test
    void rejectsBadNamesAndPasswords() {
        try (SqliteAccountStore s = open()) {
            assertThatThrownBy(() -> s.add("Alice", Role.USER, "long enough".toCharArray()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("user name 'Alice' is invalid");
            assertThatThrownBy(() -> s.add("alice", Role.USER, "short".toCharArray()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("password is too short: use at least 8 characters");
            char[] huge = new char[1025];
            Arrays.fill(huge, 'x');
            assertThatThrownBy(() -> s.add("alice", Role.USER, huge))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("password is too long: use at most 1024 characters");
            assertThat(s.list()).isEmpty();
        }
    }

    @Test
    void passwordsAreStoredAsArgon2id() {
        try (SqliteAccountStore s = open()) {
            s.add("alice", Role.USER, "correct horse".toCharArray());
            String hash = s.passwordHash("alice").orElseThrow();
            assertThat(hash).startsWith("$argon2id$").contains("m=19456,t=2,p=1").doesNotContain("correct horse");
            assertThat(Passwords.verify("correct horse", hash)).isTrue();
            assertThat(Passwords.verify("correct horsf", hash)).isFalse();
            assertThat(Passwords.verify("correct horse", "not a hash")).isFalse();
            assertThat(s.passwordHash("nobody")).isEmpty();

            assertThat(s.setPassword("alice", "new password".toCharArray())).isTrue();
            String changed = s.passwordHash("alice").orElseThrow();
            assertThat(Passwords.verify("new password", changed)).isTrue();
            assertThat(Passwords.verify("correct horse", changed)).isFalse();
            assertThat(s.setPassword("nobody", "new password".toCharArray())).isFalse();
        }
    }

    @Test
    void disableAndPolicyPersistAcrossReopen() {
        Policy low = new Policy("pro", 2, "08-18", "low");
        try (SqliteAccountStore s = open()) {
            s.add("alice", Role.USER, "correct horse".toCharArray());
            assertThat(s.setDisabled("alice", true)).isTrue();
            assertThat(s.setDisabled("nobody", true)).isFalse();
            s.setPolicy("alice", low);
            assertThatThrownBy(() -> s.setPolicy("nobody", low))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("account 'nobody' does not exist");
        }
        try (SqliteAccountStore s = open()) {
            Account a = s.find("alice").orElseThrow();
            assertThat(a.disabled()).isTrue();
            assertThat(a.policy()).isEqualTo(low);
            assertThat(a.created()).isBefore(Instant.now().plusSeconds(1));
            assertThat(s.setDisabled("alice", false)).isTrue();
            assertThat(s.find("alice").orElseThrow().disabled()).isFalse();
        }
    }

    @Test
    void devicesUpsertRevokeAndList() {
        byte[] k1 = Keys.newDeviceKeyPair().getPublic().getEncoded();
        byte[] k2 = Keys.newDeviceKeyPair().getPublic().getEncoded();
        Instant t1 = Instant.parse("2025-01-01T00:00:00Z");
        Instant t2 = t1.plusSeconds(60);
        try (SqliteAccountStore s = open()) {
            s.add("alice", Role.USER, "correct horse".toCharArray());
            s.add("bob", Role.USER, "correct horse".toCharArray());
            s.upsertDevice("d1", "alice", k1, "h1", t1);
            s.upsertDevice("d2", "alice", k2, "h2", t2);
            assertThat(s.findDevice("d1")).contains(new DeviceRow("d1", "alice", k1, "h1", false, t1));
            assertThat(s.findDevice("zz")).isEmpty();
            assertThat(s.devices("alice")).extracting(DeviceRow::deviceId).containsExactly("d2", "d1");
            assertThat(s.devices("bob")).isEmpty();

            s.revokeDevice("d1");
            assertThat(s.findDevice("d1").orElseThrow().revoked()).isTrue();
            s.touchDevice("d1", t2.plusSeconds(1));
            assertThat(s.findDevice("d1").orElseThrow().lastIssued()).isEqualTo(t2.plusSeconds(1));

            // a password login re-enrols the device: new token, owner may change, revocation cleared
            s.upsertDevice("d1", "bob", k1, "h3", t2);
            DeviceRow d1 = s.findDevice("d1").orElseThrow();
            assertThat(d1.revoked()).isFalse();
            assertThat(d1.user()).isEqualTo("bob");
            assertThat(d1.refreshTokenHash()).isEqualTo("h3");
            assertThat(d1.publicKey()).isEqualTo(k1);
        }
        try (SqliteAccountStore s = open()) {
            assertThat(s.devices("bob")).extracting(DeviceRow::deviceId).containsExactly("d1");
        }
    }

    @Test
    void schemaIsVersionedAndWalJournaled() throws Exception {
        open().close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("login.db"));
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT version FROM schema_version")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(SqliteAccountStore.SCHEMA_VERSION);
            }
            try (ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
            }
            st.execute("UPDATE schema_version SET version = 99");
        }
        assertThatThrownBy(this::open).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("schema version 99, newer than this Parley supports")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void closedStoreFailsWithOneLine() {
        SqliteAccountStore s = open();
        s.close();
        assertThatThrownBy(() -> s.find("alice")).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
    }
}

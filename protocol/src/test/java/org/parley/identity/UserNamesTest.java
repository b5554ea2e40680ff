package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserNamesTest {
    @ParameterizedTest
    @ValueSource(strings = {"a", "alice", "bob2", "0day", "a.b", "a-b", "a_b", "sn-eu-1", "x.y_z-0",
            "abcdefghijklmnopqrstuvwxyz012345"})
    void valid(String name) {
        assertThat(UserNames.isValid(name)).isTrue();
        assertThat(UserNames.check(name)).isSameAs(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Alice", "ALICE", "-a", ".a", "_a", "a b", " a", "a ", "ä", "a/b", "a@b", "a:b",
            "abcdefghijklmnopqrstuvwxyz0123456", "a\n", "a\u0000"})
    void invalid(String name) {
        assertThat(UserNames.isValid(name)).isFalse();
        assertThatThrownBy(() -> UserNames.check(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid");
    }

    @Test
    void nullIsInvalid() {
        assertThat(UserNames.isValid(null)).isFalse();
        assertThatThrownBy(() -> UserNames.check(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void lengthBoundary() {
        assertThat(UserNames.isValid("a".repeat(32))).isTrue();
        assertThat(UserNames.isValid("a".repeat(33))).isFalse();
    }
}

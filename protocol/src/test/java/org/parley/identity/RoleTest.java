package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RoleTest {
    @Test
    void wireNamesRoundTrip() {
        assertThat(Role.USER.wireName()).isEqualTo("user");
        assertThat(Role.SUPERNODE.wireName()).isEqualTo("supernode");
        assertThat(Role.ARCHIVE.wireName()).isEqualTo("archive");
        for (Role r : Role.values()) assertThat(Role.parse(r.wireName())).isSameAs(r);
    }

    @Test
    void unknownRolesAreRejected() {
        assertThatThrownBy(() -> Role.parse("USER")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Role.parse("admin")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("admin");
        assertThatThrownBy(() -> Role.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Role.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}

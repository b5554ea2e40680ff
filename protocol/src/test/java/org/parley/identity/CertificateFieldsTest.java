package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class CertificateFieldsTest {
    @ParameterizedTest
    @EnumSource(Role.class)
    void roundTrip(Role role) {
        Policy p = new Policy("pro plan ✓", 7, "22-06", "low");
        CertificateFields.Decoded d = CertificateFields.decode(CertificateFields.encode(role, p));
        assertThat(d.role()).isEqualTo(role);
        assertThat(d.policy()).isEqualTo(p);
    }

    @Test
    void encodingIsCompactVersionedJson() {
        String json = CertificateFields.encode(Role.USER, Policy.DEFAULT);
        assertThat(json).startsWith("{").endsWith("}").doesNotContain("\n").doesNotContain(" ")
                .contains("\"v\":1").contains("\"role\":\"user\"").contains("\"allowedHours\":\"00-24\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "null", "[]", "{}", "nope", "{\"v\":2,\"role\":\"user\"}",
            "{\"v\":1,\"role\":\"root\",\"plan\":\"free\",\"minClientVersion\":1,\"allowedHours\":\"00-24\",\"bandwidthClass\":\"normal\"}",
            "{\"v\":1,\"role\":\"user\",\"plan\":\"\",\"minClientVersion\":1,\"allowedHours\":\"00-24\",\"bandwidthClass\":\"normal\"}",
            "{\"v\":1,\"role\":\"user\",\"plan\":\"free\",\"minClientVersion\":-3,\"allowedHours\":\"00-24\",\"bandwidthClass\":\"normal\"}"})
    void invalidJsonIsRejectedWithIllegalArgument(String json) {
        assertThatThrownBy(() -> CertificateFields.decode(json)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oidIsInTheUuidArc() {
        assertThat(CertificateFields.OID).startsWith("2.25.");
    }
}

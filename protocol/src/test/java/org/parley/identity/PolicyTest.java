package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PolicyTest {
    static Policy hours(String h) {
        return new Policy("free", 1, h, "normal");
    }

    static List<Integer> allowed(Policy p) {
        return IntStream.range(0, 24).filter(p::allowsHour).boxed().toList();
    }

    @Test
    void defaultPolicy() {
        assertThat(Policy.DEFAULT.plan()).isEqualTo("free");
        assertThat(Policy.DEFAULT.minClientVersion()).isEqualTo(1);
        assertThat(Policy.DEFAULT.allowedHours()).isEqualTo("00-24");
        assertThat(Policy.DEFAULT.bandwidthClass()).isEqualTo("normal");
    }

    @Test
    void wholeDay() {
        assertThat(allowed(hours("00-24"))).hasSize(24);
        assertThat(allowed(Policy.DEFAULT)).hasSize(24);
        assertThat(allowed(hours("00-00"))).hasSize(24);
        assertThat(allowed(hours("12-12"))).hasSize(24);
        assertThat(allowed(hours("24-24"))).hasSize(24);
    }

    @Test
    void officeHours() {
        assertThat(allowed(hours("08-18"))).containsExactly(8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
    }

    @Test
    void windowWrappingMidnight() {
        assertThat(allowed(hours("22-06"))).containsExactly(0, 1, 2, 3, 4, 5, 22, 23);
    }

    @Test
    void windowsEndingAtMidnight() {
        assertThat(allowed(hours("18-24"))).containsExactly(18, 19, 20, 21, 22, 23);
        assertThat(allowed(hours("18-00"))).containsExactly(18, 19, 20, 21, 22, 23);
        assertThat(allowed(hours("23-24"))).containsExactly(23);
        assertThat(allowed(hours("00-01"))).containsExactly(0);
    }

    @Test
    void twentyFourToZeroIsTheWholeDayLikeZeroToZero() {
        assertThat(allowed(hours("24-00"))).hasSize(24);
    }

    @Test
    void lowBandwidthClassIsAccepted() {
        assertThat(new Policy("pro", 0, "00-24", "low").bandwidthClass()).isEqualTo("low");
    }

    @ParameterizedTest
    @ValueSource(strings = {"8-18", "08-8", "25-01", "08-25", "30-01", "08:18", "0818", "08-18 ", " 08-18", "aa-bb",
            "08-18-20", "", "-08-18", "08—18"})
    void invalidHoursAreRejected(String h) {
        assertThatThrownBy(() -> hours(h)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("allowedHours");
    }

    @Test
    void invalidPoliciesAreRejected() {
        assertThatThrownBy(() -> new Policy(null, 1, "00-24", "normal")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plan");
        assertThatThrownBy(() -> new Policy(" ", 1, "00-24", "normal")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Policy("free", -1, "00-24", "normal")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minClientVersion");
        assertThatThrownBy(() -> new Policy("free", 1, null, "normal")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Policy("free", 1, "00-24", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bandwidthClass");
        assertThatThrownBy(() -> new Policy("free", 1, "00-24", "high")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Policy("free", 1, "00-24", "Low")).isInstanceOf(IllegalArgumentException.class);
        assertThat(new Policy("free", 0, "00-24", "normal").minClientVersion()).isZero();
    }
}

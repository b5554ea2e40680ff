package org.parley.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ErrorCodeTest {
    @Test
    void wireValuesAreStable() {
        assertThat(ErrorCode.BAD_FRAME.code).isEqualTo(1);
        assertThat(ErrorCode.UNSUPPORTED_VERSION.code).isEqualTo(2);
        assertThat(ErrorCode.NOT_FOUND.code).isEqualTo(3);
        assertThat(ErrorCode.OFFLINE.code).isEqualTo(4);
        assertThat(ErrorCode.TOO_LARGE.code).isEqualTo(5);
        assertThat(ErrorCode.RATE_LIMITED.code).isEqualTo(6);
        assertThat(ErrorCode.OVER_CAPACITY.code).isEqualTo(7);
        assertThat(ErrorCode.UNAUTHORIZED.code).isEqualTo(8);
        assertThat(ErrorCode.BAD_REQUEST.code).isEqualTo(9);
        assertThat(ErrorCode.INTERNAL.code).isEqualTo(10);
        assertThat(Arrays.stream(ErrorCode.values()).mapToInt(c -> c.code).distinct().count())
                .isEqualTo(ErrorCode.values().length);
    }

    @Test
    void ofRoundTripsAndMapsUnknownCodesToInternal() {
        for (ErrorCode c : ErrorCode.values()) assertThat(ErrorCode.of(c.code)).isSameAs(c);
        assertThat(ErrorCode.of(0)).isSameAs(ErrorCode.INTERNAL);
        assertThat(ErrorCode.of(-1)).isSameAs(ErrorCode.INTERNAL);
        assertThat(ErrorCode.of(11)).isSameAs(ErrorCode.INTERNAL);
        assertThat(ErrorCode.of(Integer.MAX_VALUE)).isSameAs(ErrorCode.INTERNAL);
    }
}

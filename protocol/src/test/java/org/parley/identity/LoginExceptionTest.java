package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoginExceptionTest {
    @ParameterizedTest
    @ValueSource(strings = {"unreachable", "rate_limited", "server_error"})
    void transientCodes(String code) {
        assertThat(new LoginException(code, "m").transientFailure()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"invalid_credentials", "account_disabled", "untrusted_server", "bad_request"})
    void definiteCodes(String code) {
        assertThat(new LoginException(code, "m").transientFailure()).isFalse();
    }

    @Test
    void carriesCodeMessageAndRetryAfter() {
        LoginException e = new LoginException("rate_limited", "slow down", 30);
        assertThat(e.code()).isEqualTo("rate_limited");
        assertThat(e.getMessage()).isEqualTo("slow down");
        assertThat(e.retryAfterSeconds()).isEqualTo(30);
        assertThat(new LoginException("x", "y").retryAfterSeconds()).isZero();
    }
}

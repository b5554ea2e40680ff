package org.parley.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.parley.identity.Keys;

class LoginServiceTest {
    @Test
    void ipv6SourcesAreGroupedByTheirSlash64() {
        assertThat(LoginService.addressKey("2001:db8::1")).isEqualTo(LoginService.addressKey("2001:db8::ffff:1"))
                .isEqualTo("20010db800000000::/64");
        assertThat(LoginService.addressKey("[2001:db8:0:1::1]")).isNotEqualTo(LoginService.addressKey("2001:db8::1"));
        assertThat(LoginService.addressKey("192.0.2.7")).isEqualTo("192.0.2.7");
        assertThat(LoginService.addressKey(null)).isEqualTo("unknown");
    }

    @Test
    void onlyP256KeysAreAccepted() throws Exception {
        var p256 = Keys.newDeviceKeyPair().getPublic();
        assertThat(LoginService.p256(Base64.getEncoder().encodeToString(p256.getEncoded()))).isEqualTo(p256);
        String ed = Base64.getEncoder().encodeToString(Keys.newCaKeyPair().getPublic().getEncoded());
        assertThatThrownBy(() -> LoginService.p256(ed)).isInstanceOf(LoginService.BadRequest.class)
                .hasMessage("field 'publicKey' is not an EC P-256 public key");
        assertThatThrownBy(() -> LoginService.p256("***")).isInstanceOf(LoginService.BadRequest.class)
                .hasMessage("field 'publicKey' is not base64");
    }

    @Test
    void refreshTokensAreStoredAsSha256Hex() {
        assertThat(LoginService.tokenHash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

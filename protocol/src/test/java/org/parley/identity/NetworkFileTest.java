package org.parley.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NetworkFileTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static KeyPair ca;
    static NetworkFile sample;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        ca = Keys.newCaKeyPair();
        sample = new NetworkFile("testnet", ca.getPublic(), new HostPort("login.example", 8443),
                Keys.pin(Keys.newDeviceKeyPair().getPublic()),
                List.of(new HostPort("sn1.example", 7000), new HostPort("2001:db8::1", 7000),
                        new HostPort("192.0.2.10", 7001)));
    }

    /** The sample's JSON with one modification applied. */
    static String modified(Consumer<ObjectNode> change) throws Exception {
        ObjectNode n = (ObjectNode) JSON.readTree(sample.toJson());
        change.accept(n);
        return JSON.writeValueAsString(n);
    }

    static NetworkFileException failure(String text) {
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class, () -> NetworkFile.parse(text, "net.json"));
        assertThat(e).as("parse should fail for: " + text).isNotNull();
        assertThat(e.getMessage()).isNotBlank().doesNotContain("\n").doesNotContain("\r").contains("net.json");
        return e;
    }

    // ------------------------------------------------------------------ round trips

    @Test
    void jsonRoundTrip() {
        String json = sample.toJson();
        assertThat(json).contains("\"format\"").contains(NetworkFile.FORMAT).endsWith("\n");
        NetworkFile back = NetworkFile.parse(json, "mem");
        assertThat(back.name()).isEqualTo("testnet");
        assertThat(back.caPublicKey()).isEqualTo(ca.getPublic());
        assertThat(back.caPublicKey().getEncoded()).isEqualTo(ca.getPublic().getEncoded());
        assertThat(back.loginServer()).isEqualTo(new HostPort("login.example", 8443));
        assertThat(back.loginPin()).isEqualTo(sample.loginPin());
        assertThat(back.seeds()).containsExactlyElementsOf(sample.seeds());
        assertThat(back).isEqualTo(sample);
    }

    @Test
    void fileRoundTrip() {
        Path f = dir.resolve("nested/network.json");
        sample.write(f);
        assertThat(NetworkFile.load(f)).isEqualTo(sample);
    }

    @Test
    void ipv6LoginServerAndNoSeedsRoundTrip() {
        NetworkFile nf = sample.withLoginServer(new HostPort("::1", 443)).withSeeds(List.of());
        NetworkFile back = NetworkFile.parse(nf.toJson(), "mem");
        assertThat(back.loginServer()).isEqualTo(new HostPort("::1", 443));
        assertThat(back.seeds()).isEmpty();
        assertThat(back).isEqualTo(nf);
    }

    @Test
    void withersReplaceOneField() {
        NetworkFile nf = sample.withSeeds(List.of(new HostPort("x", 1)));
        assertThat(nf.seeds()).containsExactly(new HostPort("x", 1));
        assertThat(nf.name()).isEqualTo(sample.name());
        assertThat(nf.loginServer()).isEqualTo(sample.loginServer());
        NetworkFile nf2 = sample.withLoginServer(new HostPort("y", 2));
        assertThat(nf2.loginServer()).isEqualTo(new HostPort("y", 2));
        assertThat(nf2.seeds()).isEqualTo(sample.seeds());
    }

    @Test
    void seedsAreAnImmutableCopy() {
        List<HostPort> seeds = new ArrayList<>(List.of(new HostPort("a", 1)));
        NetworkFile nf = new NetworkFile("n", ca.getPublic(), new HostPort("l", 1), "sha256/x", seeds);
        seeds.add(new HostPort("b", 2));
        assertThat(nf.seeds()).containsExactly(new HostPort("a", 1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> nf.seeds().add(new HostPort("c", 3)))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    // ------------------------------------------------------------------ load / parse failures

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.json");
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class, () -> NetworkFile.load(f));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).doesNotContain("\n").contains("absent.json").contains("does not exist");
    }

    @Test
    void directoryInsteadOfFile() {
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class, () -> NetworkFile.load(dir));
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).doesNotContain("\n").contains(dir.toString());
    }

    @Test
    void loadReportsTheFileName() throws Exception {
        Path f = dir.resolve("broken.json");
        Files.writeString(f, "{nope", StandardCharsets.UTF_8);
        NetworkFileException e = catchThrowableOfType(NetworkFileException.class, () -> NetworkFile.load(f));
        assertThat(e.getMessage()).contains(f.toString()).contains("JSON").doesNotContain("\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json at all", "{\"format\": ", "{'single': 'quotes'}", "{\n\"a\":\n}"})
    void nonJson(String text) {
        assertThat(failure(text).getMessage()).contains("JSON");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "[{\"format\":\"parley-network/1\"}]", "\"string\"", "42", "null", "", "   "})
    void notAnObject(String text) {
        assertThat(failure(text).getMessage()).contains("JSON");
    }

    @Test
    void wrongOrMissingFormat() throws Exception {
        assertThat(failure(modified(n -> n.put("format", "parley-network/2"))).getMessage()).contains("format");
        assertThat(failure(modified(n -> n.remove("format"))).getMessage()).contains("format");
        assertThat(failure(modified(n -> n.put("format", 1))).getMessage()).contains("format");
    }

    @ParameterizedTest
    @ValueSource(strings = {"name", "caPublicKey", "loginServer", "loginPin"})
    void missingRequiredField(String field) throws Exception {
        assertThat(failure(modified(n -> n.remove(field))).getMessage()).contains(field);
        assertThat(failure(modified(n -> n.put(field, ""))).getMessage()).contains(field);
        assertThat(failure(modified(n -> n.put(field, "   "))).getMessage()).contains(field);
        assertThat(failure(modified(n -> n.putNull(field))).getMessage()).contains(field);
        assertThat(failure(modified(n -> n.put(field, 12))).getMessage()).contains(field);
        assertThat(failure(modified(n -> n.putArray(field))).getMessage()).contains(field);
    }

    @Test
    void badBase64CaKey() throws Exception {
        assertThat(failure(modified(n -> n.put("caPublicKey", "!!not base64!!"))).getMessage()).containsIgnoringCase("base64");
    }

    @Test
    void base64ThatIsNotAKey() throws Exception {
        assertThat(failure(modified(n -> n.put("caPublicKey", "AAAA"))).getMessage()).containsIgnoringCase("key");
    }

    @Test
    void ecCaKeyIsRejected() throws Exception {
        String ec = Base64.getEncoder().encodeToString(Keys.newDeviceKeyPair().getPublic().getEncoded());
        NetworkFileException e = failure(modified(n -> n.put("caPublicKey", ec)));
        assertThat(e.getMessage()).contains("caPublicKey").contains("Ed25519");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Ed448", "X25519", "RSA"})
    void otherKeyTypesAreRejected(String alg) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
        if (alg.equals("RSA")) g.initialize(1024);
        String k = Base64.getEncoder().encodeToString(g.generateKeyPair().getPublic().getEncoded());
        failure(modified(n -> n.put("caPublicKey", k)));
    }

    @Test
    void loginPinMustBeSha256() throws Exception {
        assertThat(failure(modified(n -> n.put("loginPin", "md5/abc"))).getMessage()).contains("loginPin").contains("sha256/");
    }

    @Test
    void badLoginServer() throws Exception {
        assertThat(failure(modified(n -> n.put("loginServer", "login.example"))).getMessage())
                .contains("login.example").contains("HOST:PORT");
        assertThat(failure(modified(n -> n.put("loginServer", "login.example:99999"))).getMessage())
                .contains("99999").contains("range");
    }

    @Test
    void seedWithoutPort() throws Exception {
        NetworkFileException e = failure(modified(n -> n.putArray("seeds").add("sn1.example:7000").add("host")));
        assertThat(e.getMessage()).contains("'host'").contains("HOST:PORT");
    }

    @Test
    void seedPortOutOfRange() throws Exception {
        NetworkFileException e = failure(modified(n -> n.putArray("seeds").add("sn1.example:99999")));
        assertThat(e.getMessage()).contains("99999").contains("range");
    }

    @Test
    void seedPortNotANumber() throws Exception {
        NetworkFileException e = failure(modified(n -> n.putArray("seeds").add("sn1.example:http")));
        assertThat(e.getMessage()).contains("sn1.example:http").contains("not a number");
    }

    @Test
    void seedThatIsNotAString() throws Exception {
        failure(modified(n -> n.putArray("seeds").addObject().put("host", "sn1.example")));
    }

    @Test
    void seedsThatIsNotAnArrayIsRejected() throws Exception {
        failure(modified(n -> n.put("seeds", "sn1.example:7000")));
    }

    @Test
    void unknownExtraFieldsAreIgnored() throws Exception {
        assertThat(NetworkFile.parse(modified(n -> n.put("comment", "hi")), "mem")).isEqualTo(sample);
    }
}

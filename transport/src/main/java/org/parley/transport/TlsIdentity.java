package org.parley.transport;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The node's current TLS key and certificate. The key manager reads the current values at every
 * handshake, so a renewed certificate is used by the next connection without rebuilding the codec.
 */
public final class TlsIdentity {
    private static final String ALIAS = "parley";
    private record Current(PrivateKey key, X509Certificate cert) {}

    private final AtomicReference<Current> current;

    public TlsIdentity(PrivateKey key, X509Certificate cert) {
        current = new AtomicReference<>(new Current(key, cert));
    }

    public void update(PrivateKey key, X509Certificate cert) {
        current.set(new Current(key, cert));
    }

    public X509Certificate certificate() {
        return current.get().cert();
    }

    public PrivateKey privateKey() {
        return current.get().key();
    }

    X509ExtendedKeyManager keyManager() {
        return new X509ExtendedKeyManager() {
            @Override public String[] getClientAliases(String keyType, Principal[] issuers) { return new String[] {ALIAS}; }
            @Override public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) { return ALIAS; }
            @Override public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) { return ALIAS; }
            @Override public String[] getServerAliases(String keyType, Principal[] issuers) { return new String[] {ALIAS}; }
            @Override public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) { return ALIAS; }
            @Override public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) { return ALIAS; }
            @Override public X509Certificate[] getCertificateChain(String alias) { return new X509Certificate[] {current.get().cert()}; }
            @Override public PrivateKey getPrivateKey(String alias) { return current.get().key(); }
        };
    }
}

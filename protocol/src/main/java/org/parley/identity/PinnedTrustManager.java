package org.parley.identity;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/** Trusts exactly the server whose leaf key matches a "sha256/..." pin from the network file. */
public final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final String pin;

    public PinnedTrustManager(String pin) {
        this.pin = pin;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) throw new CertificateException("no server certificate");
        if (!pin.equals(Keys.pin(chain[0].getPublicKey()))) {
            throw new CertificateException("server key does not match the pin in the network file");
        }
    }

    @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException { check(chain); }
    @Override public void checkServerTrusted(X509Certificate[] chain, String a, Socket s) throws CertificateException { check(chain); }
    @Override public void checkServerTrusted(X509Certificate[] chain, String a, SSLEngine e) throws CertificateException { check(chain); }
    @Override public void checkClientTrusted(X509Certificate[] chain, String a) throws CertificateException { throw new CertificateException("not a server"); }
    @Override public void checkClientTrusted(X509Certificate[] chain, String a, Socket s) throws CertificateException { throw new CertificateException("not a server"); }
    @Override public void checkClientTrusted(X509Certificate[] chain, String a, SSLEngine e) throws CertificateException { throw new CertificateException("not a server"); }
    @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
}

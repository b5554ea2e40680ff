package org.parley.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.parley.identity.CertificateRejectedException;
import org.parley.identity.CertificateVerifier;
import org.parley.identity.DeviceCertificate;
import org.parley.identity.Role;

/** Accepts a peer only if its leaf certificate verifies offline against the network CA (and has the required role). */
final class CaTrustManager extends X509ExtendedTrustManager {
    private final CertificateVerifier verifier;
    private final Role requiredRole;

    CaTrustManager(CertificateVerifier verifier, Role requiredRole) {
        this.verifier = verifier;
        this.requiredRole = requiredRole;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) throw new CertificateException("peer sent no certificate");
        try {
            DeviceCertificate c = verifier.verify(chain[0]);
            if (requiredRole != null && c.role() != requiredRole) {
                throw new CertificateException("peer has role " + c.role().wireName() + ", expected " + requiredRole.wireName());
            }
        } catch (CertificateRejectedException e) {
            throw new CertificateException(e.getMessage());
        }
    }

    @Override public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException { check(chain); }
    @Override public void checkClientTrusted(X509Certificate[] chain, String a, Socket s) throws CertificateException { check(chain); }
    @Override public void checkClientTrusted(X509Certificate[] chain, String a, SSLEngine e) throws CertificateException { check(chain); }
    @Override public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException { check(chain); }
    @Override public void checkServerTrusted(X509Certificate[] chain, String a, Socket s) throws CertificateException { check(chain); }
    @Override public void checkServerTrusted(X509Certificate[] chain, String a, SSLEngine e) throws CertificateException { check(chain); }
    @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
}

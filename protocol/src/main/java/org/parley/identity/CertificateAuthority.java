package org.parley.identity;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** The network CA (Ed25519). Only the login server holds its private key. */
public final class CertificateAuthority {
    private final String network;
    private final PrivateKey caKey;
    private final PublicKey caPublic;

    public CertificateAuthority(String network, KeyPair ca) {
        this.network = network;
        this.caKey = ca.getPrivate();
        this.caPublic = ca.getPublic();
    }

    public PublicKey publicKey() {
        return caPublic;
    }

    public String network() {
        return network;
    }

    /** Issues a device certificate binding {@code user} and {@code role} to {@code deviceKey}. */
    public X509Certificate issueDevice(String user, Role role, PublicKey deviceKey, Policy policy,
                                       Instant notBefore, Instant notAfter) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, network).addRDN(BCStyle.CN, UserNames.check(user)).build();
        try {
            X509v3CertificateBuilder b = builder(subject, deviceKey, notBefore, notAfter);
            b.addExtension(new ASN1ObjectIdentifier(CertificateFields.OID), false,
                    new DERUTF8String(CertificateFields.encode(role, policy)));
            return sign(b);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Issues the login server's HTTPS certificate (clients pin its key; the names are informational). */
    public X509Certificate issueServer(String commonName, PublicKey key, List<String> names, Instant notBefore,
                                       Instant notAfter) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, network).addRDN(BCStyle.CN, commonName).build();
        try {
            X509v3CertificateBuilder b = builder(subject, key, notBefore, notAfter);
            GeneralName[] gns = names.stream().map(n -> n.matches("[0-9.]+|.*:.*")
                    ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n))
                    .toArray(GeneralName[]::new);
            if (gns.length > 0) b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(gns));
            return sign(b);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private X509v3CertificateBuilder builder(X500Name subject, PublicKey key, Instant nb, Instant na)
            throws java.io.IOException {
        X500Name issuer = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, network).addRDN(BCStyle.CN, "Parley network CA").build();
        BigInteger serial = new BigInteger(127, Keys.RANDOM).add(BigInteger.ONE);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial, Date.from(nb), Date.from(na),
                subject, key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        return b;
    }

    private X509Certificate sign(X509v3CertificateBuilder b) {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("Ed25519").build(caKey);
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (Exception e) {
            throw new IllegalStateException("cannot sign certificate: " + e.getMessage(), e);
        }
    }
}

package io.crmpi.remote;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One authenticated coordinator-agent connection. Both ends know the job
 * key (random, 192 bits, handed to the agents' srun step in its
 * environment, never on a command line or the wire). The handshake proves
 * each end to the other without sending the key:
 *
 * <pre>
 * agent       -> coordinator  {"op":"hello","host":H,"nonce":NA}
 * coordinator -> agent        {"op":"challenge","nonce":NC,"proof":HMAC(K, "coordinator" NA NC H)}
 * agent       -> coordinator  {"op":"proof","proof":HMAC(K, "agent" NA NC H)}
 * </pre>
 *
 * <p>Then every line in either direction is {@code MAC SP JSON}, where MAC
 * is HMAC-SHA256 under that direction's session key (derived from K and
 * both nonces) over the message's sequence number and its bytes: a
 * changed, dropped, replayed or reordered message, or one from another
 * connection, fails the check and ends the connection. Lines are bounded
 * before anything is parsed: 4 KiB during the handshake, {@link
 * Wire#MAX_LINE} after it.
 */
final class SecureChannel implements AutoCloseable {
  static final int MAX_HANDSHAKE_LINE = 4096;
  private static final String HMAC = "HmacSHA256";
  private static final HexFormat HEX = HexFormat.of();

  private final InputStream in;
  private final OutputStream out;
  private final Mac sendMac;
  private final Mac receiveMac;
  private final String peerHost;
  private long sent;
  private long received;

  private SecureChannel(InputStream in, OutputStream out, byte[] sendKey, byte[] receiveKey, String peerHost) {
    this.in = in;
    this.out = out;
    this.sendMac = mac(sendKey);
    this.receiveMac = mac(receiveKey);
    this.peerHost = peerHost;
  }

  /** The agent's host name, as it said in its hello (the coordinator's end) or its own (the agent's end). */
  String host() {
    return peerHost;
  }

  /** The agent's end of the handshake: fails unless the coordinator proves it knows the job key. */
  static SecureChannel agent(InputStream rawIn, OutputStream out, String jobKey, String host) throws IOException {
    InputStream in = new BufferedInputStream(rawIn);
    String na = nonce();
    ObjectNode hello = Wire.message("hello");
    hello.put("host", host);
    hello.put("nonce", na);
    writePlain(out, hello);
    ObjectNode challenge = readPlain(in, "challenge");
    if (challenge == null) {
      throw new IOException("the coordinator closed the connection during the handshake (wrong job key?)");
    }
    String nc = hexField(challenge, "nonce");
    byte[] key = keyBytes(jobKey);
    if (!MessageDigest.isEqual(HEX.parseHex(hexField(challenge, "proof")), proof(key, "coordinator", na, nc, host))) {
      throw new IOException("the coordinator did not prove that it knows the job key: not this job's coordinator");
    }
    ObjectNode proof = Wire.message("proof");
    proof.put("proof", HEX.formatHex(proof(key, "agent", na, nc, host)));
    writePlain(out, proof);
    return new SecureChannel(in, out, derive(key, "agent-to-coordinator", na, nc),
        derive(key, "coordinator-to-agent", na, nc), host);
  }

  /** The coordinator's end: fails unless the agent proves it knows the job key. */
  static SecureChannel coordinator(InputStream rawIn, OutputStream out, String jobKey) throws IOException {
    InputStream in = new BufferedInputStream(rawIn);
    ObjectNode hello = readPlain(in, "hello");
    if (hello == null) {
      throw new IOException("no hello");
    }
    String host = hello.path("host").asText("");
    if (!host.matches("[A-Za-z0-9._-]{1,253}")) {
      throw new IOException("bad host name in hello");
    }
    String na = hexField(hello, "nonce");
    String nc = nonce();
    byte[] key = keyBytes(jobKey);
    ObjectNode challenge = Wire.message("challenge");
    challenge.put("nonce", nc);
    challenge.put("proof", HEX.formatHex(proof(key, "coordinator", na, nc, host)));
    writePlain(out, challenge);
    ObjectNode proof = readPlain(in, "proof");
    if (proof == null || !MessageDigest.isEqual(HEX.parseHex(hexField(proof, "proof")),
        proof(key, "agent", na, nc, host))) {
      throw new IOException("the agent on " + host + " did not prove that it knows the job key");
    }
    return new SecureChannel(in, out, derive(key, "coordinator-to-agent", na, nc),
        derive(key, "agent-to-coordinator", na, nc), host);
  }

  /** Sends one message with its MAC. Thread-safe. */
  void send(ObjectNode message) throws IOException {
    byte[] json = Wire.MAPPER.writeValueAsBytes(message);
    synchronized (out) {
      byte[] tag = tag(sendMac, sent, json);
      out.write(HEX.formatHex(tag).getBytes(StandardCharsets.US_ASCII));
      out.write(' ');
      out.write(json);
      out.write('\n');
      out.flush();
      sent++;
    }
  }

  /** The next message, or null at the end of the stream; fails on a message that does not authenticate. */
  ObjectNode receive() throws IOException {
    synchronized (in) {
      byte[] line = readLine(in, Wire.MAX_LINE + 65);
      if (line == null) {
        return null;
      }
      if (line.length < 65 || line[64] != ' ') {
        throw new IOException("message without authentication from " + peerHost);
      }
      byte[] given;
      try {
        given = HEX.parseHex(new String(line, 0, 64, StandardCharsets.US_ASCII));
      } catch (IllegalArgumentException e) {
        throw new IOException("message without authentication from " + peerHost);
      }
      byte[] json = java.util.Arrays.copyOfRange(line, 65, line.length);
      if (!MessageDigest.isEqual(given, tag(receiveMac, received, json))) {
        throw new IOException("a message from " + peerHost + " failed authentication (changed, replayed or"
            + " out of order): connection closed");
      }
      received++;
      return Wire.parse(json);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      in.close();
    } finally {
      out.close();
    }
  }

  private static byte[] tag(Mac mac, long seq, byte[] json) {
    synchronized (mac) {
      mac.update(ByteBuffer.allocate(8).putLong(seq).array());
      return mac.doFinal(json);
    }
  }

  private static void writePlain(OutputStream out, ObjectNode m) throws IOException {
    byte[] json = Wire.MAPPER.writeValueAsBytes(m);
    synchronized (out) {
      out.write(json);
      out.write('\n');
      out.flush();
    }
  }

  private static ObjectNode readPlain(InputStream in, String op) throws IOException {
    byte[] line = readLine(in, MAX_HANDSHAKE_LINE);
    if (line == null) {
      return null;
    }
    ObjectNode m = Wire.parse(line);
    if (!m.path("op").asText().equals(op)) {
      throw new IOException("expected '" + op + "' in the handshake, got '" + m.path("op").asText() + "'");
    }
    return m;
  }

  /**
   * Reads up to a newline, at most max bytes: a longer line is refused
   * before it is buffered, whoever sends it.
   */
  static byte[] readLine(InputStream in, int max) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (buf.size() == 0) {
          return null;
        }
        throw new IOException("connection closed in the middle of a message");
      }
      if (b == '\n') {
        return buf.toByteArray();
      }
      if (buf.size() >= max) {
        throw new IOException("message longer than " + max + " bytes: refused");
      }
      buf.write(b);
    }
  }

  private static String hexField(ObjectNode m, String field) throws IOException {
    String v = m.path(field).asText("");
    if (!v.matches("[0-9a-f]{64}")) {
      throw new IOException("bad '" + field + "' in the handshake");
    }
    return v;
  }

  private static String nonce() {
    byte[] n = new byte[32];
    RANDOM.nextBytes(n);
    return HEX.formatHex(n);
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private static byte[] keyBytes(String jobKey) throws IOException {
    if (jobKey == null || jobKey.length() < 32) {
      throw new IOException("the job key is missing or shorter than 32 characters");
    }
    return jobKey.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] proof(byte[] key, String role, String na, String nc, String host) {
    return mac(key).doFinal(("crmpi-proof\n" + role + "\n" + na + "\n" + nc + "\n" + host)
        .getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] derive(byte[] key, String direction, String na, String nc) {
    return mac(key).doFinal(("crmpi-session\n" + direction + "\n" + na + "\n" + nc).getBytes(StandardCharsets.UTF_8));
  }

  private static Mac mac(byte[] key) {
    try {
      Mac m = Mac.getInstance(HMAC);
      m.init(new SecretKeySpec(key, HMAC));
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available in this JVM", e);
    }
  }
}

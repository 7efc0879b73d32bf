package io.crmpi.remote;

import io.crmpi.wire.BadMessage;
import io.crmpi.wire.JsonLines;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.Function;
import java.util.zip.CRC32C;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One authenticated coordinator-agent (or partner-copy) connection. Both
 * ends know the job key (random, 192 bits, handed to the agents' srun
 * step in its environment, never on a command line or the wire). The
 * handshake proves each end to the other without sending the key:
 *
 * <pre>
 * agent       -> coordinator  Hello(host H, nonce NA)
 * coordinator -> agent        Challenge(nonce NC, proof HMAC(K, "coordinator" NA NC H))
 * agent       -> coordinator  Proof(proof HMAC(K, "agent" NA NC H))
 * </pre>
 *
 * <p>(each a {@link Handshake} record in {@link Wire#HANDSHAKE}'s codec).
 *
 * <p>Partner-copy connections ({@link PartnerLink} to {@link PartnerPort})
 * use the same handshake and framing with the roles "partner-client" and
 * "partner-server" in place of "agent" and "coordinator", so that proofs
 * and session keys of one kind of connection are worthless on the other.
 *
 * <p>Then every line in either direction is {@code MAC SP JSON}, where MAC
 * is HMAC-SHA256 under that direction's session key (derived from K and
 * both nonces) over the message's sequence number and its bytes: a
 * changed, dropped, replayed or reordered message, or one from another
 * connection, fails the check and ends the connection. File data on the
 * partner wire travels in binary frames ({@link #sendBlob}) whose header
 * carries the same MAC over the sequence number, the length and the data's
 * CRC32C: the frame's place in the stream is authenticated, and its bytes
 * are checked for corruption at the speed of the copy. They are not
 * authenticated cryptographically here: every image file they carry is
 * checked against its SHA-256 in the sealed manifest before anything
 * restores from it (crmpid's staging), which a changed byte fails. Lines are bounded
 * before anything is parsed: {@link Wire#MAX_HANDSHAKE_LINE} during the
 * handshake, {@link Wire#MAX_LINE} after it ({@link Wire#MAX_PARTNER_LINE}
 * on a partner-copy connection). A message that authenticates
 * but does not decode (a {@link BadMessage}) is the receiver's to judge.
 *
 * @param <O> what this end sends
 * @param <I> what this end receives
 */
final class SecureChannel<O, I> implements AutoCloseable {
  private static final String HMAC = "HmacSHA256";
  private static final HexFormat HEX = HexFormat.of();

  private final io.crmpi.wire.LineInput in;
  private final OutputStream out;
  private final Mac sendMac;
  private final Mac receiveMac;
  private final String peerHost;
  private final int maxLine;
  private final JsonLines<O> outCodec;
  private final JsonLines<I> inCodec;
  /** What a binary frame becomes on receipt; null on a wire that carries none. */
  private final Function<byte[], I> blobs;
  private long sent;
  private long received;

  private SecureChannel(io.crmpi.wire.LineInput in, OutputStream out, byte[] sendKey, byte[] receiveKey, String peerHost,
      int maxLine, JsonLines<O> outCodec, JsonLines<I> inCodec, Function<byte[], I> blobs) {
    this.blobs = blobs;
    this.maxLine = maxLine;
    this.outCodec = outCodec;
    this.inCodec = inCodec;
    this.in = in;
    this.out = out;
    this.sendMac = mac(sendKey);
    this.receiveMac = mac(receiveKey);
    this.peerHost = peerHost;
  }

  /**
   * The connecting end's host name, as it said in its hello (the accepting
   * end) or its own (the connecting end).
   */
  String host() {
    return peerHost;
  }

  /** The agent's end of the handshake: fails unless the coordinator proves it knows the job key. */
  static SecureChannel<FromAgent, ToAgent> agent(InputStream rawIn, OutputStream out, String jobKey, String host)
      throws IOException {
    return connecting(rawIn, out, jobKey, host, Roles.AGENT, Wire.FROM_AGENT, Wire.TO_AGENT, null);
  }

  /** The coordinator's end: fails unless the agent proves it knows the job key. */
  static SecureChannel<ToAgent, FromAgent> coordinator(InputStream rawIn, OutputStream out, String jobKey)
      throws IOException {
    return accepting(rawIn, out, jobKey, Roles.AGENT, Wire.TO_AGENT, Wire.FROM_AGENT, null);
  }

  /**
   * The connecting end of a partner-copy connection ({@link PartnerLink}),
   * on behalf of host: fails unless the partner proves it knows the job key.
   */
  static SecureChannel<PartnerMessage, PartnerMessage> partnerClient(InputStream rawIn, OutputStream out,
      String jobKey, String host) throws IOException {
    return connecting(rawIn, out, jobKey, host, Roles.PARTNER, Wire.PARTNER, Wire.PARTNER, PartnerMessage.Data::new);
  }

  /** The accepting end of a partner-copy connection ({@link PartnerPort}). */
  static SecureChannel<PartnerMessage, PartnerMessage> partnerServer(InputStream rawIn, OutputStream out,
      String jobKey) throws IOException {
    return accepting(rawIn, out, jobKey, Roles.PARTNER, Wire.PARTNER, Wire.PARTNER, PartnerMessage.Data::new);
  }

  /**
   * The two ends of one kind of connection: the labels its proofs and
   * session keys are bound to (different for every kind, so that no
   * handshake or session of one can be replayed on another), the names
   * errors give them, and the longest line after the handshake.
   */
  private record Roles(String client, String server, String clientName, String serverName, int maxLine) {
    static final Roles AGENT = new Roles("agent", "coordinator", "agent", "coordinator", Wire.MAX_LINE);
    static final Roles PARTNER = new Roles("partner-client", "partner-server", "partner client", "partner",
        Wire.MAX_PARTNER_LINE);

    String clientToServer() {
      return client + "-to-" + server;
    }

    String serverToClient() {
      return server + "-to-" + client;
    }
  }

  private static <O, I> SecureChannel<O, I> connecting(InputStream rawIn, OutputStream out, String jobKey,
      String host, Roles roles, JsonLines<O> outCodec, JsonLines<I> inCodec, Function<byte[], I> blobs)
      throws IOException {
    io.crmpi.wire.LineInput in = new io.crmpi.wire.LineInput(rawIn);
    String na = nonce();
    writePlain(out, new Handshake.Hello(host, na));
    Handshake.Challenge challenge = readPlain(in, Handshake.Challenge.class);
    if (challenge == null) {
      throw new IOException("the " + roles.serverName()
          + " closed the connection during the handshake (wrong job key?)");
    }
    String nc = challenge.nonce();
    byte[] key = keyBytes(jobKey);
    if (!MessageDigest.isEqual(HEX.parseHex(challenge.proof()), proof(key, roles.server(), na, nc, host))) {
      throw new IOException("the " + roles.serverName() + " did not prove that it knows the job key: not this job's "
          + roles.serverName());
    }
    writePlain(out, new Handshake.Proof(HEX.formatHex(proof(key, roles.client(), na, nc, host))));
    return new SecureChannel<>(in, out, derive(key, roles.clientToServer(), na, nc),
        derive(key, roles.serverToClient(), na, nc), host, roles.maxLine(), outCodec, inCodec, blobs);
  }

  private static <O, I> SecureChannel<O, I> accepting(InputStream rawIn, OutputStream out, String jobKey,
      Roles roles, JsonLines<O> outCodec, JsonLines<I> inCodec, Function<byte[], I> blobs) throws IOException {
    io.crmpi.wire.LineInput in = new io.crmpi.wire.LineInput(rawIn);
    Handshake.Hello hello = readPlain(in, Handshake.Hello.class);
    if (hello == null) {
      throw new IOException("no hello");
    }
    String host = hello.host();
    String na = hello.nonce();
    String nc = nonce();
    byte[] key = keyBytes(jobKey);
    writePlain(out, new Handshake.Challenge(nc, HEX.formatHex(proof(key, roles.server(), na, nc, host))));
    Handshake.Proof proof = readPlain(in, Handshake.Proof.class);
    if (proof == null
        || !MessageDigest.isEqual(HEX.parseHex(proof.proof()), proof(key, roles.client(), na, nc, host))) {
      throw new IOException("the " + roles.clientName() + " on " + host + " did not prove that it knows the job key");
    }
    return new SecureChannel<>(in, out, derive(key, roles.serverToClient(), na, nc),
        derive(key, roles.clientToServer(), na, nc), host, roles.maxLine(), outCodec, inCodec, blobs);
  }

  /** Sends one message with its MAC. Thread-safe. */
  void send(O message) throws IOException {
    sendRaw(outCodec.encode(message));
  }

  /** Sends JSON bytes with their MAC, whatever they are (tests use it to send what the codec would not). */
  void sendRaw(byte[] json) throws IOException {
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

  /**
   * Sends len bytes of b as one binary frame: the line {@code MAC SP
   * :LEN:CRC} (CRC the bytes' CRC32C, 8 hex digits), the MAC over the
   * sequence number and that header, then the bytes as they are. Only for a
   * wire whose receiver turns frames into messages (partner copies: file
   * data, without base64 and JSON).
   */
  void sendBlob(byte[] b, int off, int len) throws IOException {
    if (len <= 0 || len > MAX_BLOB) {
      throw new IllegalArgumentException("a binary frame carries 1 to " + MAX_BLOB + " bytes: " + len);
    }
    CRC32C crc = new CRC32C();
    crc.update(b, off, len);
    String header = ":" + len + ":" + HEX.toHexDigits((int) crc.getValue());
    synchronized (out) {
      byte[] tag = tag(sendMac, sent, header.getBytes(StandardCharsets.US_ASCII));
      out.write((HEX.formatHex(tag) + " " + header + "\n").getBytes(StandardCharsets.US_ASCII));
      out.write(b, off, len);
      out.flush();
      sent++;
    }
  }

  /** The most bytes one binary frame carries. */
  static final int MAX_BLOB = 1 << 20;

  /**
   * The next message, or null at the end of the stream. A message that does
   * not authenticate is an IOException (the connection is no longer
   * trustworthy); one that authenticates but does not decode is a {@link
   * BadMessage}, after which the channel is still in step.
   */
  I receive() throws IOException {
    synchronized (in) {
      byte[] line = in.readLine(maxLine + 65).orElse(null);
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
      if (json.length > 0 && json[0] == ':') {
        return receiveBlob(given, json);
      }
      if (!MessageDigest.isEqual(given, tag(receiveMac, received, json))) {
        throw new IOException("a message from " + peerHost + " failed authentication (changed, replayed or"
            + " out of order): connection closed");
      }
      received++;
      return inCodec.decode(json);
    }
  }

  /** A binary frame (see {@link #sendBlob}) whose header line was read, with its MAC given. */
  private I receiveBlob(byte[] given, byte[] header) throws IOException {
    String h = new String(header, StandardCharsets.US_ASCII);
    java.util.regex.Matcher m = FRAME_HEADER.matcher(h);
    if (blobs == null || !m.matches() || Integer.parseInt(m.group(1)) > MAX_BLOB) {
      throw new IOException(blobs == null ? "a binary frame from " + peerHost + " on a wire that carries none"
          : "a binary frame from " + peerHost + " with a bad header '" + h + "' (a length of at most " + MAX_BLOB
              + " and a CRC32C)");
    }
    if (!MessageDigest.isEqual(given, tag(receiveMac, received, header))) {
      throw new IOException("a message from " + peerHost + " failed authentication (changed, replayed or"
          + " out of order): connection closed");
    }
    byte[] payload = in.readExactly(Integer.parseInt(m.group(1)));
    CRC32C crc = new CRC32C();
    crc.update(payload);
    if ((int) crc.getValue() != (int) Long.parseLong(m.group(2), 16)) {
      throw new IOException("a data frame from " + peerHost + " arrived corrupt (its CRC32C does not match):"
          + " connection closed");
    }
    received++;
    return blobs.apply(payload);
  }

  private static final java.util.regex.Pattern FRAME_HEADER =
      java.util.regex.Pattern.compile(":([1-9][0-9]{0,7}):([0-9a-f]{8})");

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

  private static void writePlain(OutputStream out, Handshake m) throws IOException {
    byte[] json = Wire.HANDSHAKE.encode(m);
    synchronized (out) {
      out.write(json);
      out.write('\n');
      out.flush();
    }
  }

  /** The next handshake message, which must be of the given kind; null at the end of the stream. */
  private static <T extends Handshake> T readPlain(io.crmpi.wire.LineInput in, Class<T> kind) throws IOException {
    byte[] line = in.readLine(Wire.MAX_HANDSHAKE_LINE).orElse(null);
    if (line == null) {
      return null;
    }
    Handshake m;
    try {
      m = Wire.HANDSHAKE.decode(line);
    } catch (BadMessage e) {
      throw new IOException("bad handshake message: " + e.getMessage());
    }
    if (!kind.isInstance(m)) {
      throw new IOException("expected " + kind.getSimpleName() + " in the handshake, got "
          + m.getClass().getSimpleName());
    }
    return kind.cast(m);
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

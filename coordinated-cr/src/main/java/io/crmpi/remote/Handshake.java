package io.crmpi.remote;

import java.util.regex.Pattern;

/** The three unauthenticated messages of {@link SecureChannel}'s handshake. */
sealed interface Handshake {
  Pattern HOST = Pattern.compile("[A-Za-z0-9._-]{1,253}");
  Pattern HEX256 = Pattern.compile("[0-9a-f]{64}");

  /** Agent to coordinator: who it is, and its nonce. */
  record Hello(String host, String nonce) implements Handshake {
    public Hello {
      if (host == null || !HOST.matcher(host).matches()) {
        throw new IllegalArgumentException("bad host name in hello");
      }
      requireHex("nonce", nonce);
    }
  }

  /** Coordinator to agent: its nonce, and its proof that it knows the job key. */
  record Challenge(String nonce, String proof) implements Handshake {
    public Challenge {
      requireHex("nonce", nonce);
      requireHex("proof", proof);
    }
  }

  /** Agent to coordinator: its proof that it knows the job key. */
  record Proof(String proof) implements Handshake {
    public Proof {
      requireHex("proof", proof);
    }
  }

  private static void requireHex(String field, String value) {
    if (value == null || !HEX256.matcher(value).matches()) {
      throw new IllegalArgumentException("bad '" + field + "' in the handshake (want 64 hex digits)");
    }
  }
}

package io.crmpi.remote;

import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.wire.JsonLines;

/**
 * The coordinator-agent wire across nodes, and the partner-copy wire: the
 * codecs of their message types ({@link JsonLines}, strict), and their line
 * limits. See {@link SecureChannel} for how lines travel.
 */
final class Wire {
  /** The longest line accepted after the handshake (a persisted image lists every file of the image). */
  static final int MAX_LINE = 64 << 20;
  /** The longest line accepted during the handshake, before the peer is authenticated. */
  static final int MAX_HANDSHAKE_LINE = 4096;
  /**
   * The longest line after the handshake on a partner-copy connection: a
   * {@link PartnerMessage.Data} of {@link PartnerMessage#MAX_DATA} bytes in
   * base64, with room to spare.
   */
  static final int MAX_PARTNER_LINE = 2 << 20;

  static final JsonLines<ToAgent> TO_AGENT = JsonLines.of("crmpi agent", ToAgent.class, AgentRequest.class);
  static final JsonLines<FromAgent> FROM_AGENT = JsonLines.of("crmpi agent", FromAgent.class, AgentReply.class);
  static final JsonLines<PartnerMessage> PARTNER = JsonLines.of("crmpi partner", PartnerMessage.class);
  static final JsonLines<Handshake> HANDSHAKE = JsonLines.of("crmpi agent", Handshake.class);

  private Wire() {}
}

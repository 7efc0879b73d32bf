package io.crmpi.local;

/**
 * What a {@link ControlServer} socket speaks: one request line in, one
 * answer line out. The server reads at most {@link #maxRequest} bytes and
 * checks the peer's credentials before the service sees anything.
 */
interface LineService {
  /** The longest request line accepted. */
  int maxRequest();

  /** The answer line (without its newline) to one request line; never throws. */
  byte[] answer(byte[] request);

  /** The answer line for a request refused before it was read (wrong peer, overlong line). */
  byte[] refusal(String why);
}

package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ListenAddressTest {
  @Test
  void literalAddressesWithAPortParse() {
    InetSocketAddress v4 = ListenAddress.parse(" 127.0.0.1:9464 ", "crmpi.conf: metrics_listen");
    assertEquals("127.0.0.1", v4.getAddress().getHostAddress());
    assertEquals(9464, v4.getPort());
    InetSocketAddress v6 = ListenAddress.parse("[::1]:9100", "x");
    assertTrue(v6.getAddress().isLoopbackAddress());
    assertEquals(9100, v6.getPort());
    assertTrue(ListenAddress.parse("0.0.0.0:1", "x").getAddress().isAnyLocalAddress());
  }

  @Test
  void anythingElseIsRefusedWithTheFormWanted() {
    for (String bad : new String[] {"9464", "localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
        "127.0.0.1:65536", "::1:9464", "[::1]", "127.0.0.1:94a", "300.1.1.1:80", ":9464"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ListenAddress.parse(bad, "crmpi.conf: metrics_listen"), bad);
      assertTrue(e.getMessage().startsWith("crmpi.conf: metrics_listen: '"), e.getMessage());
      assertTrue(e.getMessage().contains("127.0.0.1:9464") || e.getMessage().contains("not an IP address"),
          e.getMessage());
    }
  }
}

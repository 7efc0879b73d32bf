package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Malformed messages on every socket of a running job, sent by its owner
 * (who, unlike another user, gets past the peer check): garbage, a line
 * too long for any wire, JSON of no known message, a cut-off message, the
 * start of a rank's hello and binary bytes, each on the control socket,
 * the ranks' socket and crmpid's socket. Each is refused or dropped; the
 * job keeps checkpointing, ends with exit 0 and an output identical to an
 * uninterrupted run's, and crmpid keeps serving.
 */
class MalformedWireTest extends UserJobTest {
  private static final int RANKS = 4;
  private static final String ITERS = "6000";
  private static final String[] JUNK = {
      "not json at all",
      "--bytes=3000000",
      "{\"type\":\"Nope\",\"body\":{}}",
      "{\"type\":\"Vacate\",\"bo",
      "{\"type\":\"Checkpoint\",\"body\":{\"trigger\":[1,2,3]}}",
      "HELLO",
      "HELLO 1 0 0 2 x",
      "\u0001\u0002\u0003\u00ff",
  };

  @Test
  void everySocketOfARunningJobShrugsOffMalformedMessages() throws Exception {
    Crmpi c = userJob();
    Process crmpi = null;
    try {
      crmpi = c.start("run", daemonEnv(), List.of("run", "--name", "ring", "--interval", "1s", "--", "mpirun",
          "-np", Integer.toString(RANKS), "--oversubscribe", Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
      c.awaitCommitted("ring", 1, crmpi);
      awaitUsersRanks(c, "ring", RANKS);
      List<Path> sockets = new ArrayList<>();
      try (Stream<Path> s = Files.list(c.jobDir("ring").resolve("sock"))) {
        s.filter(p -> p.getFileName().toString().endsWith(".sock")).sorted().forEach(sockets::add);
      }
      assertTrue(sockets.stream().anyMatch(p -> p.getFileName().toString().equals("control.sock")), "" + sockets);
      assertTrue(sockets.stream().anyMatch(p -> p.getFileName().toString().startsWith("ranks-")), "" + sockets);
      sockets.add(crmpid.socket);
      StringBuilder answers = new StringBuilder();
      for (Path socket : sockets) {
        String out = SocketProbe.asUser(OWNER, c.base, socket, JUNK);
        answers.append(socket.getFileName()).append(":\n").append(out);
        assertEquals(JUNK.length, out.strip().split("\n").length, "not one answer per message on " + socket
            + ":\n" + out);
      }
      String all = answers.toString();
      assertFalse(all.contains("Exception"), "a socket answered with an exception:\n" + all);
      assertTrue(all.contains("malformed"), "nothing said the messages were malformed:\n" + all);

      long before = c.committedCount("ring");
      c.awaitCommitted("ring", before + 2, crmpi);
      Crmpi.Result r = c.await("run", crmpi);
      assertEquals(0, r.exitCode(), r.describe());
      // A message on the ranks' socket never counts as a rank (which would make every quiesce wait for it). A
      // checkpoint may still abort at the job's very end, when its ranks exit during the dump.
      assertFalse(r.stderr().contains("PREPARE_"), "a checkpoint's prepare failed after the malformed messages:\n"
          + r.describe());
      assertArrayEquals(Crmpi.reference(RANKS, "ring", "ring.out", ITERS),
          Files.readAllBytes(c.workdir.resolve("ring.out")), "ring.out differs from an uninterrupted run");
      // crmpid still serves: a well-formed request of this user gets its usual refusal for an unknown tree.
      String after = SocketProbe.asUser(OWNER, c.base, crmpid.socket,
          "{\"type\":\"Processes\",\"body\":{\"tree\":{\"job\":\"no-such-job\",\"node\":\"local\"}}}");
      assertTrue(after.contains("\"type\":\"Count\""), "crmpid stopped serving: " + after);
    } finally {
      if (crmpi != null && crmpi.isAlive()) {
        Crmpi.killWithItsTree(crmpi);
      }
    }
  }
}

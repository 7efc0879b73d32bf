package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import io.crmpi.wire.BadMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The remote lifecycle's messages survive the wire whole, and nothing else passes. */
class LifecycleWireTest {
  private static final LaunchSpec SPEC = new LaunchSpec("job-7", "node1", List.of("sleep", "infinity"),
      Path.of("/work"), Map.of("A", "1"), Path.of("/state/run/node1"),
      new io.crmpi.engine.JobNetwork("cr0123abcd1", "crbr0", "10.213.4.2/16"));
  /** With the record of the files the tree wrote (an instant and an enum travel too). */
  private static final NodeImage IMAGE = new NodeImage("node1", "nodes/node1/image",
      List.of(new FileDigest("nodes/node1/image/pages-1.img", 4096, "ab".repeat(32))), "nodes/node1/workdir", "/work",
      List.of(new FileDigest("out.txt", 3, "cd".repeat(32))), Map.of(),
      new io.crmpi.store.WorkdirRecord(java.time.Instant.parse("2026-11-30T14:00:00.123456789Z"), List.of(
          new io.crmpi.store.WrittenFile("out.txt", io.crmpi.store.WrittenFile.State.COPY, 3, "cd".repeat(32), 0644),
          new io.crmpi.store.WrittenFile("run.log", io.crmpi.store.WrittenFile.State.APPEND, 9, "ef".repeat(32), 0600),
          io.crmpi.store.WrittenFile.absent("gone"))));

  private static <T> T roundTrip(io.crmpi.wire.JsonLines<T> codec, T m) {
    return codec.decode(codec.encode(m));
  }

  /** The image as crmpid's persist answers it: every file without its digest (the seal brings them). */
  static io.crmpi.store.NodeImage unsealed(io.crmpi.store.NodeImage image) {
    return image.sealedAs(image.files().stream()
        .map(f -> io.crmpi.store.FileDigest.unsealed(f.path(), f.size())).toList(), image.attributes());
  }

  @Test
  void everyCoordinatorMessageRoundTrips() {
    List<ToAgent> all = List.of(new ToAgent.Assign(SPEC, "criu", 30_000, "dump:1"), new ToAgent.Ping(),
        new ToAgent.Bye(), new ToAgent.Launch(1), new ToAgent.Restore(2, List.of(Path.of("/local/e4"), Path.of("/state/job/epochs/4")), 4, IMAGE),
        new ToAgent.Exec(3, List.of("/bin/sh", "-c", "echo hi")), new ToAgent.Kill(4), new ToAgent.Fence(5),
        new ToAgent.Thaw(6), new ToAgent.CountProcesses(7),
        new ToAgent.Send(8, new AgentRequest.Dump(4, Path.of("/state/e4"), null, 30_000)),
        new ToAgent.Send(9, AgentRequest.Resume.proceed(4)),
        new ToAgent.Assign(SPEC, "criu", 30_000, "", Path.of("/dev/shm/crmpi-1000/job")),
        new ToAgent.Restore(10, List.of(Path.of("/local/e4")), 4, IMAGE, new io.crmpi.protocol.PartnerSource(
            List.of("10.0.0.2:40001", "10.0.0.3:40002"), Path.of("/local/e4"))),
        new ToAgent.Send(11, new AgentRequest.Replicate(4, Path.of("/dev/shm/crmpi-1000/job"), "node2",
            "10.0.0.2:40001")),
        new ToAgent.Send(12, new AgentRequest.Seal(4)),
        new ToAgent.Send(13, new AgentRequest.Reseal(4, unsealed(IMAGE))));
    for (ToAgent m : all) {
      assertEquals(m, roundTrip(Wire.TO_AGENT, m));
    }
  }

  @Test
  void everyAgentMessageRoundTrips() {
    List<FromAgent> all = List.of(new FromAgent.Done(1),
        new FromAgent.Replied(2, new AgentReply.Persisted("node1", 4, IMAGE, 12)),
        new FromAgent.Replied(2, new AgentReply.Persisted("node1", 4, unsealed(IMAGE), 12)),
        new FromAgent.Replied(7, new AgentReply.Sealed("node1", 4, IMAGE, 9)),
        new FromAgent.Replied(3, new AgentReply.Failed("node1", 4, "criu dump failed")),
        new FromAgent.Replied(3, new AgentReply.TreeEnded("node1", 5)),
        new FromAgent.Replied(6, new AgentReply.Replicated("node1", 4, 1 << 20, 15)),
        new FromAgent.Listening("10.0.0.2:40001"),
        new FromAgent.Counted(4, 17), new FromAgent.CallFailed(5, "no tree"),
        new FromAgent.Exited(new TreeExit(137, false)), new FromAgent.Log("restoring"), new FromAgent.Pong());
    for (FromAgent m : all) {
      assertEquals(m, roundTrip(Wire.FROM_AGENT, m));
    }
    byte[] bytes = {0, 1, '\n', (byte) 0xff};
    FromAgent.Output o = (FromAgent.Output) roundTrip(Wire.FROM_AGENT, new FromAgent.Output("stderr", bytes));
    assertArrayEquals(bytes, o.data());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"Kill\",\"body\":{\"id\":1,\"pid\":1}}",
      "{\"type\":\"Kill\",\"body\":{\"id\":\"1\"}}",
      "{\"type\":\"Kill\",\"body\":{\"id\":1.5}}",
      "{\"type\":\"Kill\",\"body\":{\"id\":-3}}",
      "{\"type\":\"Kill\",\"body\":{\"id\":1,\"id\":2}}",
      "{\"type\":\"Call\",\"body\":{\"id\":1}}",
      "{\"type\":\"Send\",\"body\":{\"id\":1,\"request\":{\"Shutdown\":{\"epoch\":1}}}}",
      "{\"type\":\"Send\",\"body\":{\"id\":1,\"request\":{\"Prepare\":{\"epoch\":0}}}}",
      "{\"type\":\"Send\",\"body\":{\"id\":1,\"request\":null}}",
      "{\"type\":\"Exec\",\"body\":{\"id\":1,\"command\":[]}}",
      "{\"type\":\"Assign\",\"body\":{\"spec\":null,\"engine\":\"criu\",\"quiesceTimeoutMillis\":1,\"faults\":\"\"}}",
      "{\"type\":\"Assign\",\"body\":{\"spec\":null,\"engine\":\"../x\",\"quiesceTimeoutMillis\":1,\"faults\":\"\"}}",
      "{\"type\":\"Ping\",\"body\":{}} {}",
      "[\"Ping\"]"})
  void aCoordinatorMessageThatIsNotExactlyValidIsABadMessage(String line) {
    BadMessage e = assertThrows(BadMessage.class,
        () -> Wire.TO_AGENT.decode(line.getBytes(StandardCharsets.UTF_8)), line);
    assertTrue(!e.getMessage().isBlank());
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"type\":\"Output\",\"body\":{\"stream\":\"stdout\",\"data\":\"%% not base64\"}}",
      "{\"type\":\"Output\",\"body\":{\"stream\":\"/etc/passwd\",\"data\":\"\"}}",
      "{\"type\":\"Counted\",\"body\":{\"id\":1,\"processes\":-1}}",
      "{\"type\":\"Replied\",\"body\":{\"id\":1,\"reply\":{\"Prepared\":{\"node\":null,\"epoch\":1}}}}",
      "{\"type\":\"Exited\",\"body\":{\"exit\":{\"code\":\"0\",\"killedByCrmpi\":false}}}"})
  void anAgentMessageThatIsNotExactlyValidIsABadMessage(String line) {
    assertThrows(BadMessage.class, () -> Wire.FROM_AGENT.decode(line.getBytes(StandardCharsets.UTF_8)), line);
  }

  @Test
  void aNestedRequestTravelsUnderItsRecordName() {
    String json = new String(Wire.TO_AGENT.encode(new ToAgent.Send(1, new AgentRequest.Prepare(3))),
        StandardCharsets.UTF_8);
    assertEquals("{\"type\":\"Send\",\"body\":{\"id\":1,\"request\":{\"Prepare\":{\"epoch\":3}}}}", json);
    assertInstanceOf(ToAgent.Send.class, Wire.TO_AGENT.decode(json.getBytes(StandardCharsets.UTF_8)));
  }
}

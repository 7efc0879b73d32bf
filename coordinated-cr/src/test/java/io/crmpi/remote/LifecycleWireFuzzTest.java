package io.crmpi.remote;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.engine.JobNetwork;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.FileDigest;
import io.crmpi.store.NodeImage;
import io.crmpi.wire.Fuzz;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Whatever arrives on an authenticated coordinator-agent connection decodes to a valid message or is refused. */
class LifecycleWireFuzzTest {
  private static final String[] TOKENS = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "0", "-1", "1e999",
      "0.5", "\\u0000", "\"\"", "{}", "[]", "\"../x\"", "\"file:///x\"", "\"type\":", "\"body\":", "\"Send\"",
      "\"Prepare\"", "\"Replied\"", "\"Output\"", "\"id\":", "\"%%\""};

  @Test
  void anyMessageEitherWayDecodesOrIsABadMessage() {
    LaunchSpec spec = new LaunchSpec("job-7", "node1", List.of("sleep", "infinity"), Path.of("/work"),
        Map.of("A", "1"), Path.of("/state/run/node1"), new JobNetwork("cr0123abcd1", "crbr0", "10.213.4.2/16"));
    NodeImage image = new NodeImage("node1", "nodes/node1/image",
        List.of(new FileDigest("nodes/node1/image/pages-1.img", 4096, "ab".repeat(32))), null, null, List.of(),
        Map.of());
    List<byte[]> toAgent = new ArrayList<>();
    for (ToAgent m : List.of(new ToAgent.Assign(spec, "criu", 30_000, ""), new ToAgent.Ping(), new ToAgent.Bye(),
        new ToAgent.Restore(2, List.of(Path.of("/state/e4")), 4, image), new ToAgent.Exec(3, List.of("/bin/sh", "-c", "x")),
        new ToAgent.Send(8, new AgentRequest.Dump(4, Path.of("/state/e4"), null, 30_000)), new ToAgent.Kill(1))) {
      toAgent.add(Wire.TO_AGENT.encode(m));
    }
    List<byte[]> fromAgent = new ArrayList<>();
    for (FromAgent m : List.of(new FromAgent.Done(1), new FromAgent.Replied(2, new AgentReply.Persisted("node1", 4,
        image, 12)), new FromAgent.Counted(4, 17), new FromAgent.CallFailed(5, "no"),
        new FromAgent.Exited(new TreeExit(137, false)), new FromAgent.Output("stdout", new byte[] {1, 2, 3}),
        new FromAgent.Log("x"), new FromAgent.Pong())) {
      fromAgent.add(Wire.FROM_AGENT.encode(m));
    }
    long[] a = Fuzz.run("ToAgent", toAgent, TOKENS, Wire.TO_AGENT::decode);
    long[] b = Fuzz.run("FromAgent", fromAgent, TOKENS, Wire.FROM_AGENT::decode);
    assertTrue(a[1] > 0 && a[2] > 0 && b[1] > 0 && b[2] > 0, "the fuzzer reached only one side");
  }
}

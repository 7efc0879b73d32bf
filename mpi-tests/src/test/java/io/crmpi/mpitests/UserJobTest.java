package io.crmpi.mpitests;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Base of the test classes whose jobs belong to the ordinary user
 * crmpi-test1 (created when missing), with a crmpid of the class's own and
 * a 0755 directory under /tmp for the jobs.
 */
abstract class UserJobTest {
  static final String OWNER = "crmpi-test1";
  static Path base;
  static TestCrmpid crmpid;

  @BeforeAll
  static void startCrmpid() throws Exception {
    TestCrmpid.ensureUser(OWNER);
    base = TestCrmpid.openDirectory(Path.of("/tmp"), "crmpi-user-");
    crmpid = TestCrmpid.start(base.resolve("crmpid"), "");
  }

  @AfterAll
  static void stopCrmpid() throws Exception {
    TestCrmpid.stopAndDelete(crmpid, base);
  }

  /** A new job of the owner's. */
  static Crmpi userJob() throws Exception {
    return Crmpi.asUser(TestCrmpid.openDirectory(base, "job-"), OWNER);
  }

  /** The environment that points bin/crmpi at the class's crmpid. */
  static Map<String, String> daemonEnv() {
    return Map.of("CRMPI_DAEMON_SOCKET", crmpid.socket.toString());
  }
}

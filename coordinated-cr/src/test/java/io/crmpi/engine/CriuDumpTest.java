package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.nativeio.CriuDumpRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * criu dump as a child process: its command line, its errors, and a dump
 * that hangs past its deadline, played by a stand-in criu that never ends:
 * it is killed, and the call says why.
 */
class CriuDumpTest {
  @TempDir Path dir;

  private CriuDumpRequest request() {
    Map<String, String> mounts = new LinkedHashMap<>();
    mounts.put("/home/u/run", "crmpi-workdir");
    return new CriuDumpRequest(4242, dir, "dump.log", true, Path.of("/sys/fs/cgroup/crmpi/t"), mounts, 1 << 20);
  }

  private Path fakeCriu(String body) throws IOException {
    Path criu = dir.resolve("criu");
    Files.writeString(criu, "#!/bin/sh\n" + body + "\n");
    criu.toFile().setExecutable(true);
    return criu;
  }

  @Test
  void theCommandLineHasEveryOptionOfTheDump() {
    assertEquals(List.of("/c/criu", "dump", "--tree", "4242", "--images-dir", dir.toString(), "--log-file",
        "dump.log", "-v4", "--tcp-established", "--network-lock", "nftables", "--leave-running",
        "--freeze-cgroup", "/sys/fs/cgroup/crmpi/t", "--ghost-limit", "1048576", "--external",
        "mnt[/home/u/run]:crmpi-workdir"), CriuDump.command(Path.of("/c/criu"), request()));
  }

  @Test
  void aDescriptorPathOfThisProcessIsGivenToCriuByPid() {
    assertEquals(Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/7"),
        CriuDump.reachable(Path.of("/proc/self/fd/7")));
    assertEquals(Path.of("/state/x"), CriuDump.reachable(Path.of("/state/x")));
  }

  @Test
  void aFailedDumpNamesCriusErrorLines() throws IOException {
    Path criu = fakeCriu("echo '(00.1) Error (criu/cr-dump.c:1): no such task' > \"$5/$7\"; exit 1");
    IOException e = assertThrows(IOException.class, () -> CriuDump.run(criu, request(), Duration.ofSeconds(30)));
    assertTrue(e.getMessage().contains("failed (exit 1)"), e.getMessage());
    assertTrue(e.getMessage().contains("no such task"), e.getMessage());
  }

  @Test
  void aDumpThatHangsPastItsDeadlineIsKilled() throws Exception {
    Path pidFile = dir.resolve("criu.pid");
    Path criu = fakeCriu("echo $$ > " + pidFile + "; exec sleep 600");
    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> CriuDump.run(criu, request(), Duration.ofSeconds(1)));
    assertTrue(e.getMessage().contains("did not finish within 1 s (--dump-timeout); it was killed"), e.getMessage());
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(60).toNanos(), "the call waited for the hung dump");
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the hung criu still runs");
  }

  @Test
  void onlyCriusOwnLockTablesAreRemoved() {
    String listing = "table inet CRIU-1a2b3c\ntable ip filter\ntable inet crmpi_job\ntable inet CRIU-77\n"
        + "table inet CRIU-x;y\n";
    assertEquals(List.of("CRIU-1a2b3c", "CRIU-77"), CriuNetworkLock.criuTables(listing));
  }

  @Test
  void theLockTableIsNamedAfterTheRunIdCriuLogged() throws IOException {
    Path log = dir.resolve("dump.log");
    Files.writeString(log, "(00.000000) Unable to get $HOME directory\n"
        + "(00.000000) CRIU run id = 33be2e96-988d-43c9-8800-123456789abc\n(00.000119) Version: 4.2.1\n");
    String id = CriuNetworkLock.runId(log).orElseThrow();
    assertEquals("33be2e96-988d-43c9-8800-123456789abc", id);
    // criu prints "inet CRIU-<id>" into 32 bytes: the table nft lists is cut to 26 characters.
    assertEquals("CRIU-33be2e96-988d-43c9-88", CriuNetworkLock.tableName(id));
    assertEquals("CRIU-1a2b", CriuNetworkLock.tableName("1a2b"));
    assertTrue(CriuNetworkLock.runId(dir.resolve("missing.log")).isEmpty());
    Files.writeString(log, "(00.000000) killed before it said\n");
    assertTrue(CriuNetworkLock.runId(log).isEmpty());
  }
}

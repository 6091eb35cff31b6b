"""The tor wrapper against a real tor with DisableNetwork (no private network needed)."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ohtchat.crypto.keys import NodeKey
from ohtchat.tor.config import TorConfig
from ohtchat.tor.control import TorState, open_controller
from ohtchat.tor.errors import OnionServiceError, TorStartError
from ohtchat.tor.process import TorProcess
from tests.waiting import eventually

pytestmark = [pytest.mark.tor, pytest.mark.filterwarnings("ignore:setDaemon:DeprecationWarning")]


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def onions_of(tor: TorProcess) -> set[str]:
    text = await tor._getinfo("onions/current")
    return {line.strip() for line in text.splitlines() if line.strip()}


@pytest.fixture
async def offline_tor(short_tmp: Path):
    tor = TorProcess.launch(TorConfig(short_tmp / "tor", disable_network=True))
    await tor.start()
    yield tor
    await tor.stop()


async def test_tor_reports_the_onion_address_we_derive(offline_tor: TorProcess, short_tmp: Path):
    keys = [NodeKey() for _ in range(5)]
    for key in keys:
        # add_onion raises if tor's ServiceID differs from our derivation.
        service = await offline_tor.add_onion(
            key.add_onion_blob, short_tmp / "t.sock", 7777, key.onion
        )
        assert service.address == key.onion
    assert await onions_of(offline_tor) == {k.onion.removesuffix(".onion") for k in keys}


async def test_a_wrong_expected_address_is_refused_and_not_left_behind(
    offline_tor: TorProcess, short_tmp: Path
):
    key, other = NodeKey(), NodeKey()
    with pytest.raises(OnionServiceError, match="derived"):
        await offline_tor.add_onion(key.add_onion_blob, short_tmp / "t.sock", 7777, other.onion)
    assert await onions_of(offline_tor) == set()


async def test_remove_onion(offline_tor: TorProcess, short_tmp: Path):
    key = NodeKey()
    service = await offline_tor.add_onion(key.add_onion_blob, short_tmp / "t.sock", 7777, key.onion)
    await offline_tor.remove_onion(service)
    assert await onions_of(offline_tor) == set()
    assert offline_tor.onion_services == []


async def test_data_dir_is_private_even_if_it_existed_open(short_tmp: Path):
    data = short_tmp / "tor"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    tor = TorProcess.launch(TorConfig(data, disable_network=True))
    await tor.start()
    try:
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_ISSOCK(tor.config.control_socket.stat().st_mode)
        assert "__OwningControllerProcess" in tor.config.torrc_path.read_text()
    finally:
        await tor.stop()
    assert tor.status.state is TorState.STOPPED
    assert not tor.config.control_socket.exists()


async def test_closing_a_controller_connection_does_not_stop_tor(offline_tor: TorProcess):
    pid = offline_tor.pid
    assert pid is not None
    for _ in range(2):
        # A second connection from this same process: stem sends TAKEOWNERSHIP on it.
        extra = await asyncio.to_thread(open_controller, offline_tor.config.control_socket)
        await asyncio.to_thread(extra.close)
    # The scenario: give tor time to act on the closed connections (it would exit at once if
    # it took them for its owner's), then check that it did NOT stop.
    await asyncio.sleep(0.5)
    assert pid_alive(pid)
    assert offline_tor.running
    assert await offline_tor._getinfo("version")
    # ...and tor still watches our pid, so it still dies with us.
    extra = await asyncio.to_thread(open_controller, offline_tor.config.control_socket)
    try:
        owner = await asyncio.to_thread(extra.get_conf, "__OwningControllerProcess")
    finally:
        await asyncio.to_thread(extra.close)
    assert owner == str(os.getpid())


CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from ohtchat.tor.config import TorConfig
    from ohtchat.tor.process import TorProcess

    async def main():
        tor = TorProcess.launch(TorConfig(Path(sys.argv[1]), disable_network=True))
        await tor.start()
        print(tor.pid, flush=True)
        await asyncio.sleep(600)

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_tor_dies_with_the_process_that_launched_it(short_tmp: Path, sig: signal.Signals):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(short_tmp / "tor")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
        tor_pid = int(line)
        assert pid_alive(tor_pid)
        child.send_signal(sig)
        await asyncio.to_thread(child.wait, 30)
        # tor notices its owner's end asynchronously (its owning control connection closes, or
        # its 15 s poll of the owner's pid): wait for that, generously.
        await eventually(lambda: not pid_alive(tor_pid), "tor exits after its parent", timeout=60)
    finally:
        child.kill()
        child.wait()


async def test_attach_to_a_running_tor(offline_tor: TorProcess, short_tmp: Path):
    attached = TorProcess.attach(str(offline_tor.config.control_socket))
    await attached.start()
    key = NodeKey()
    try:
        info = await attached.info()
        assert info["mode"] == "attached" and info["version"]
        assert attached.pid is None
        await attached.add_onion(key.add_onion_blob, short_tmp / "a.sock", 7777, key.onion)
        # (onions/current lists the services of the asking control connection only)
        assert await onions_of(attached) == {key.onion.removesuffix(".onion")}
    finally:
        await attached.stop()
    # Detaching leaves the tor running.
    assert offline_tor.running and pid_alive(offline_tor.pid or -1)
    assert await offline_tor.circuit_established() is False


async def test_attach_to_nothing_is_a_clear_error(short_tmp: Path):
    tor = TorProcess.attach(str(short_tmp / "missing.sock"))
    with pytest.raises(TorStartError, match="cannot reach tor"):
        await tor.start()
    assert tor.status.state is TorState.FAILED


async def test_a_tor_that_cannot_start_reports_its_log(short_tmp: Path):
    config = TorConfig(short_tmp / "tor", options=[("NoSuchOption", "1")])
    with pytest.raises(TorStartError, match="NoSuchOption"):
        await TorProcess.launch(config).start()

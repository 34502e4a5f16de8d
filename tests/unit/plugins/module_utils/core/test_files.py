"""files: an org's directories, config and program on disk with the README's owners and modes, what
a sync reports, check mode, masked diffs, removal, and what is found on disk.

The owner is a real user and group other than root (nobody:nogroup), so that owners are checked
for real; that needs root, as the modules have on a host."""

import errno
import grp
import os
import pwd
import stat

import pytest

from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.files import (
    MAX_FILE_BYTES,
    NOT_OURS,
    Dir,
    OrgFiles,
    UnsafePathError,
    check_trusted,
    describe,
    sync_all,
)
from ansible_collections.hauser.multi_hauser.plugins.module_utils.core.layout import MARKER, Layout

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="owners other than the current user need root")

UID = pwd.getpwnam("nobody").pw_uid
GID = grp.getgrnam("nogroup").gr_gid
KEY = "na1.Zx9Qw8Er7Ty6/abc"
NEW_KEY = "na1.Pl0Ok9Ij8Uh7/def"
PASSWORD = "Redshift-pw-8c1d"


def config(key=KEY, delay="24h", password=PASSWORD):
    return ('# %s\nFsApiToken = "%s"\nExportDelay = "%s"\n\n[redshift]\nPassword = "%s"\nUser = "hauser"\n'
            % (MARKER, key, delay, password))


def program(org_id, command="/opt/multi-hauser/1.5.1/hauser"):
    return "; %s\n[program:hauser-%s]\ncommand=%s\n" % (MARKER, org_id, command)


def record(org_id="o-1", dirs=None, **kwargs):
    return {"org_id": org_id, "dirs": dirs, "config": config(**kwargs), "program": program(org_id)}


class Host:
    def __init__(self, root):
        self.base = root / "base"
        self.programs = root / "conf.d"
        self.programs.mkdir()
        self.layout = Layout(str(self.base), str(self.programs))

    def files(self, check=False, secrets=()):
        return OrgFiles(self.layout, UID, GID, check=check, secrets=secrets)

    def sync(self, org, existing=False, **kwargs):
        files = self.files(**kwargs)
        return files, files.sync(org, existing)

    def owner_and_mode(self, path):
        info = os.lstat(path)
        return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)

    def snapshot(self):
        """Every path under the host's directories with its owner, mode and content."""
        found = {}
        for top in (self.base, self.programs):
            for directory, dirnames, filenames in os.walk(top):
                for name in dirnames + filenames:
                    path = os.path.join(directory, name)
                    content = open(path).read() if os.path.isfile(path) else None
                    found[path] = (self.owner_and_mode(path), content)
        return found


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def test_a_new_org_gets_its_directories_config_and_program_with_the_documented_owners(host, tmp_path):
    save_dir = str(tmp_path / "save" / "o-1")
    files, change = host.sync(record(dirs=[host.layout.tmp_dir("o-1"), save_dir]))
    assert (change.org_id, change.new, change.config_changed, change.program_changed) == ("o-1", True, True, True)
    assert files.attrs_changed
    assert host.owner_and_mode(host.layout.org_dir("o-1")) == (0, GID, 0o750)  # root:hauser 0750, holds the config
    for directory in (host.layout.tmp_dir("o-1"), save_dir):
        assert os.path.isdir(directory)
        assert host.owner_and_mode(directory) == (UID, GID, 0o750)  # hauser:hauser 0750
    assert host.owner_and_mode(host.layout.config_path("o-1")) == (0, GID, 0o640)  # root:hauser 0640
    assert host.owner_and_mode(host.layout.program_path("o-1")) == (0, 0, 0o600)  # root:root 0600
    assert open(host.layout.config_path("o-1")).read() == config()
    assert open(host.layout.program_path("o-1")).read() == program("o-1")
    # written beside and renamed: no temporary file is left
    assert sorted(os.listdir(host.layout.org_dir("o-1"))) == ["config.toml", "tmp"]
    assert os.listdir(str(host.programs)) == ["hauser-o-1.conf"]


def test_a_second_sync_of_the_same_files_reports_nothing(host):
    host.sync(record())
    before = host.snapshot()
    files, change = host.sync(record(), existing=True)
    assert (change.new, change.config_changed, change.program_changed) == (False, False, False)
    assert not files.attrs_changed and files.diff == []
    assert host.snapshot() == before


def test_a_config_change_is_not_a_program_change(host):
    host.sync(record())
    program_inode = os.stat(host.layout.program_path("o-1")).st_ino
    files, change = host.sync(record(delay="25h"), existing=True)
    assert (change.config_changed, change.program_changed) == (True, False)
    assert 'ExportDelay = "25h"' in open(host.layout.config_path("o-1")).read()
    assert os.stat(host.layout.program_path("o-1")).st_ino == program_inode  # not rewritten
    assert host.owner_and_mode(host.layout.config_path("o-1")) == (0, GID, 0o640)
    [diff] = files.diff
    assert diff["before_header"] == diff["after_header"] == host.layout.config_path("o-1")
    assert 'ExportDelay = "24h"' in diff["before"] and 'ExportDelay = "25h"' in diff["after"]


def test_a_program_change_is_not_a_config_change(host):
    host.sync(record())
    org = dict(record(), program=program("o-1", command="/opt/multi-hauser/1.5.2/hauser"))
    files, change = host.sync(org, existing=True)
    assert (change.config_changed, change.program_changed) == (False, True)
    assert "1.5.2" in open(host.layout.program_path("o-1")).read()
    [diff] = files.diff
    assert diff["after_header"] == host.layout.program_path("o-1")


def test_attribute_drift_is_repaired_and_reported_without_a_restart(host):
    host.sync(record(dirs=[host.layout.tmp_dir("o-1")]))
    os.chmod(host.layout.config_path("o-1"), 0o644)  # readable by every local user: it holds the key
    os.chown(host.layout.program_path("o-1"), UID, GID)
    os.chmod(host.layout.org_dir("o-1"), 0o777)
    os.chown(host.layout.tmp_dir("o-1"), 0, 0)
    files, change = host.sync(record(dirs=[host.layout.tmp_dir("o-1")]), existing=True)
    assert files.attrs_changed
    assert (change.config_changed, change.program_changed) == (False, False)  # hauser need not restart
    assert host.owner_and_mode(host.layout.config_path("o-1")) == (0, GID, 0o640)
    assert host.owner_and_mode(host.layout.program_path("o-1")) == (0, 0, 0o600)
    assert host.owner_and_mode(host.layout.org_dir("o-1")) == (0, GID, 0o750)
    assert host.owner_and_mode(host.layout.tmp_dir("o-1")) == (UID, GID, 0o750)
    assert not host.sync(record(dirs=[host.layout.tmp_dir("o-1")]), existing=True)[0].attrs_changed


def test_check_mode_writes_nothing_and_reports_what_it_would_do(host):
    files, change = host.sync(record(dirs=[host.layout.tmp_dir("o-1")]), check=True)
    assert (change.new, change.config_changed, change.program_changed) == (True, True, True)
    assert files.attrs_changed
    assert not os.path.exists(str(host.base)) and os.listdir(str(host.programs)) == []
    headers = [(diff["before_header"], diff["after_header"]) for diff in files.diff]
    assert headers == [
        (host.layout.org_dir("o-1"), host.layout.org_dir("o-1")),
        (host.layout.tmp_dir("o-1"), host.layout.tmp_dir("o-1")),
        ("/dev/null", host.layout.config_path("o-1")),
        ("/dev/null", host.layout.program_path("o-1")),
    ]
    assert files.diff[0]["before"] == {"path": host.layout.org_dir("o-1"), "state": "absent"}
    assert files.diff[0]["after"] == {"path": host.layout.org_dir("o-1"), "state": "directory"}


def test_check_mode_leaves_changes_and_drift_as_they_are(host):
    host.sync(record())
    os.chmod(host.layout.config_path("o-1"), 0o644)
    before = host.snapshot()
    files, change = host.sync(record(delay="25h"), existing=True, check=True)
    assert change.config_changed and files.attrs_changed is False  # the config is rewritten anyway
    files, change = host.sync(record(), existing=True, check=True)
    assert not change.config_changed and files.attrs_changed
    assert host.snapshot() == before


def test_diffs_mask_the_key_line_and_the_secret_values(host):
    host.sync(record())
    files = host.sync(record(key=NEW_KEY, delay="25h", password="new-password"), existing=True,
                      secrets=["new-password", PASSWORD])[0]
    [diff] = files.diff
    shown = repr(diff)
    for secret in (KEY, NEW_KEY, PASSWORD, "new-password"):
        assert secret not in shown
    assert 'ExportDelay = "25h"' in diff["after"]
    assert diff["after_header"] == host.layout.config_path("o-1")  # something else changed too: shown
    assert open(host.layout.config_path("o-1")).read() == config(key=NEW_KEY, delay="25h", password="new-password")


def test_a_change_of_secrets_alone_says_so_instead_of_showing_them(host):
    host.sync(record())
    files, change = host.sync(record(key=NEW_KEY), existing=True)
    assert change.config_changed
    [diff] = files.diff
    assert diff["after_header"] == host.layout.config_path("o-1") + " (a secret changed; not shown)"
    assert diff["before"] == diff["after"] and NEW_KEY not in repr(diff) and KEY not in repr(diff)


def test_remove_deletes_the_program_and_the_config_and_keeps_the_directories(host):
    host.sync(record(dirs=[host.layout.tmp_dir("o-1")]))
    open(os.path.join(host.layout.tmp_dir("o-1"), "export.csv"), "w").close()
    files = host.files()
    files.remove("o-1", host.layout.program_path("o-1"))
    assert not os.path.exists(host.layout.program_path("o-1"))
    assert not os.path.exists(host.layout.config_path("o-1"))  # it holds the key
    assert os.listdir(host.layout.tmp_dir("o-1")) == ["export.csv"]
    [diff] = files.diff
    assert diff["before_header"] == host.layout.program_path("o-1") and diff["after"] == ""
    assert "[program:hauser-o-1]" in diff["before"]


def test_remove_of_an_org_whose_config_is_gone_removes_its_program(host):
    host.sync(record())
    os.unlink(host.layout.config_path("o-1"))
    host.files().remove("o-1", host.layout.program_path("o-1"))
    assert os.listdir(str(host.programs)) == []


def test_remove_in_check_mode_removes_nothing(host):
    host.sync(record())
    before = host.snapshot()
    files = host.files(check=True)
    files.remove("o-1", host.layout.program_path("o-1"))
    assert host.snapshot() == before
    assert files.diff[0]["before_header"] == host.layout.program_path("o-1")


def test_managed_programs_are_the_program_files_of_orgs_that_hold_the_marker(host):
    for org_id in ("o-1", "o-2"):
        host.sync(record(org_id))
    programs = str(host.programs)
    with open(os.path.join(programs, "hauser-by-hand.conf"), "w") as handle:
        handle.write("[program:hauser-by-hand]\ncommand=/bin/true\n")  # no marker: someone else's
    with open(os.path.join(programs, "other.conf"), "w") as handle:
        handle.write(program("other"))  # the marker, but not an org's file name
    with open(os.path.join(programs, "hauser-.conf"), "w") as handle:
        handle.write(program(""))
    with open(os.path.join(programs, "hauser-o-3.conf.dpkg-old"), "w") as handle:
        handle.write(program("o-3"))
    os.mkdir(os.path.join(programs, "hauser-dir.conf"))
    with open(os.path.join(programs, "hauser-binary.conf"), "wb") as handle:
        handle.write(b"\xff\xfe" + MARKER.encode())  # not UTF-8: unreadable, not ours
    assert host.files().managed_programs() == {"o-1": os.path.join(programs, "hauser-o-1.conf"),
                                               "o-2": os.path.join(programs, "hauser-o-2.conf")}


def test_managed_programs_of_a_missing_program_directory_are_none(tmp_path):
    assert OrgFiles(Layout(str(tmp_path), str(tmp_path / "missing")), UID, GID).managed_programs() == {}


@pytest.mark.parametrize("text, delay", [
    (config(delay="24h10m"), "24h10m"),
    ('exportdelay="25h"\n', "25h"),
    ('  ExportDelay   =   "26h" # staggered\n', "26h"),
    ('# ExportDelay = "1h"\nFsApiToken = "x"\n', None),
    ('FsApiToken = "x"\n', None),
])
def test_export_delay_is_read_from_the_orgs_config(host, text, delay):
    os.makedirs(host.layout.org_dir("o-1"))
    with open(host.layout.config_path("o-1"), "w") as handle:
        handle.write(text)
    assert host.files().export_delay("o-1") == delay


def test_export_delay_of_an_org_without_config_is_none(host):
    assert host.files().export_delay("o-1") is None


# --- what the hauser user may have planted: root never follows it ---------------------------------

SECRET = "root-only-content-Qv7Nz"


@pytest.fixture
def root_only(tmp_path):
    """A root-only file and directory, as the targets of planted links."""
    directory = tmp_path / "root-only"
    directory.mkdir(mode=0o700)
    secret = directory / "secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    return directory, secret


def as_before(path):
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), open(path).read() if os.path.isfile(path) else None


def old_layout(host, save_root):
    """An org as the collection's older releases left it: its directory owned by the hauser user,
    so that user could rename every entry in it; the save directory the hauser user's too."""
    host.sync(record(dirs=[host.layout.tmp_dir("o-1"), str(save_root / "o-1")]))
    os.chown(host.layout.org_dir("o-1"), UID, GID)
    os.chown(str(save_root), UID, GID)


def test_links_planted_in_an_org_directory_of_the_older_layout_are_replaced_never_followed(host, tmp_path, root_only):
    directory, secret = root_only
    save_root = tmp_path / "save"
    save_root.mkdir()
    old_layout(host, save_root)
    org_dir = host.layout.org_dir("o-1")
    # as the hauser user could have: every entry it could rename, a link to something root-only
    os.unlink(os.path.join(org_dir, "config.toml"))
    os.symlink(str(secret), os.path.join(org_dir, "config.toml"))
    os.rmdir(host.layout.tmp_dir("o-1"))
    os.symlink(str(directory), host.layout.tmp_dir("o-1"))
    os.rmdir(str(save_root / "o-1"))
    os.symlink(str(directory), str(save_root / "o-1"))
    os.chown(str(save_root), 0, GID)  # the role's install stage takes the save directory back first
    targets = {path: as_before(path) for path in (str(directory), str(secret))}

    files, change = host.sync(record(key=NEW_KEY, dirs=[host.layout.tmp_dir("o-1"), str(save_root / "o-1")]),
                              existing=True, secrets=[])
    assert {path: as_before(path) for path in targets} == targets  # owner, mode and content unchanged
    assert SECRET not in repr(files.diff)
    assert change.config_changed
    assert host.owner_and_mode(org_dir) == (0, GID, 0o750)  # taken over: the hauser user renames nothing now
    for path in (host.layout.tmp_dir("o-1"), str(save_root / "o-1")):
        assert not os.path.islink(path) and host.owner_and_mode(path) == (UID, GID, 0o750)
    config_path = host.layout.config_path("o-1")
    assert not os.path.islink(config_path) and NEW_KEY in open(config_path).read()
    assert [diff["before_header"] for diff in files.diff if diff["before_header"].startswith(config_path)] == [
        config_path + " (not a file of ours: replaced, not read)"]


def test_a_hard_link_where_the_config_should_be_is_replaced_and_not_read(host, root_only):
    _directory, secret = root_only
    host.sync(record())
    config_path = host.layout.config_path("o-1")
    os.unlink(config_path)
    os.link(str(secret), config_path)
    files, _change = host.sync(record(), existing=True)
    assert SECRET not in repr(files.diff)
    assert open(str(secret)).read() == SECRET + "\n" and os.stat(str(secret)).st_nlink == 1
    assert KEY in open(config_path).read()


def test_reading_a_config_never_follows_a_link(host, root_only):
    _directory, secret = root_only
    secret.write_text('ExportDelay = "99h"\n')
    host.sync(record())
    os.unlink(host.layout.config_path("o-1"))
    os.symlink(str(secret), host.layout.config_path("o-1"))
    files = host.files()
    assert files.export_delay("o-1") is None and files.config_text("o-1") is None


def test_a_directory_where_a_file_of_ours_should_be_fails_naming_it(host):
    host.sync(record())
    os.unlink(host.layout.config_path("o-1"))
    os.mkdir(host.layout.config_path("o-1"))
    os.mkdir(os.path.join(host.layout.config_path("o-1"), "inside"))
    with pytest.raises(OSError, match="%s is a directory, where a file of ours should be" % host.layout.config_path("o-1")):
        host.sync(record(key=NEW_KEY), existing=True)


def test_a_deployment_directory_that_another_user_may_change_is_refused(tmp_path):
    unsafe = tmp_path / "hausers"
    unsafe.mkdir()
    os.chown(str(unsafe), UID, GID)
    programs = tmp_path / "conf.d"
    programs.mkdir()
    files = OrgFiles(Layout(str(unsafe / "base"), str(programs)), UID, GID)
    with pytest.raises(OSError, match="is not owned by root, or others may write in it"):
        files.sync(record(), False)
    assert not (unsafe / "base").exists()


def test_an_org_directory_of_the_older_layout_is_taken_over_in_place_without_a_restart(host, tmp_path):
    save_root = tmp_path / "save"
    save_root.mkdir()
    old_layout(host, save_root)
    os.chown(str(save_root), 0, GID)  # the role's install stage takes the save directory back first
    os.chmod(host.layout.program_path("o-1"), 0o644)  # the older releases' mode
    org_dir = host.layout.org_dir("o-1")
    inode = os.stat(org_dir).st_ino
    files, change = host.sync(record(dirs=[host.layout.tmp_dir("o-1"), str(save_root / "o-1")]), existing=True)
    assert (change.config_changed, change.program_changed) == (False, False)  # nothing restarts
    assert files.attrs_changed
    assert os.stat(org_dir).st_ino == inode and host.owner_and_mode(org_dir) == (0, GID, 0o750)
    assert host.owner_and_mode(host.layout.program_path("o-1")) == (0, 0, 0o600)
    assert host.owner_and_mode(host.layout.config_path("o-1")) == (0, GID, 0o640)
    assert host.owner_and_mode(str(save_root / "o-1")) == (UID, GID, 0o750)
    assert open(host.layout.config_path("o-1")).read() == config()


# --- Dir.read: what is not a file of ours is not read ----------------------------------------------


@pytest.fixture
def opened(tmp_path):
    """(path, Dir) of a directory root alone may change."""
    path = tmp_path / "deployment"
    path.mkdir(mode=0o755)
    with Dir.trusted(str(path)) as directory:
        yield path, directory


def test_read_gives_the_text_of_a_regular_file_and_none_for_nothing(opened):
    path, directory = opened
    (path / "file").write_text(u"ExportDelay = \"24h\" # \u00e9\n")
    assert directory.read("file") == u"ExportDelay = \"24h\" # \u00e9\n"
    assert directory.read("missing") is None
    (path / "largest").write_bytes(b"x" * MAX_FILE_BYTES)
    assert directory.read("largest") == "x" * MAX_FILE_BYTES


def test_read_reads_nothing_that_is_not_a_file_of_ours(opened, root_only):
    path, directory = opened
    _secret_directory, secret = root_only
    os.symlink(str(secret), str(path / "link"))
    os.symlink(str(path / "nowhere"), str(path / "dangling"))
    (path / "directory").mkdir()
    os.mkfifo(str(path / "fifo"))  # read without O_NONBLOCK, it would wait for a writer forever
    os.link(str(secret), str(path / "hard-link"))
    (path / "too-large").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    (path / "not-utf8").write_bytes(b"ExportDelay = \"24h\"\n\xff\xfe")
    for name in ("link", "dangling", "directory", "fifo", "hard-link", "too-large", "not-utf8"):
        assert directory.read(name) is NOT_OURS, name
    assert open(str(secret)).read() == SECRET + "\n"


def test_read_reads_no_device(opened):
    path, directory = opened
    try:
        os.mknod(str(path / "null"), stat.S_IFCHR | 0o600, os.makedev(1, 3))  # as /dev/null
    except PermissionError:
        pytest.skip("no device nodes can be made here")
    assert directory.read("null") is NOT_OURS


# --- what is planted where a file or directory of ours should be ------------------------------------


def test_a_link_where_the_program_should_be_is_replaced_and_nothing_of_its_target_shown(host, root_only):
    _directory, secret = root_only
    host.sync(record())
    program_path = host.layout.program_path("o-1")
    os.unlink(program_path)
    os.symlink(str(secret), program_path)
    before = as_before(str(secret))
    files, change = host.sync(record(), existing=True)
    assert change.program_changed
    assert as_before(str(secret)) == before
    assert not os.path.islink(program_path) and open(program_path).read() == program("o-1")
    assert host.owner_and_mode(program_path) == (0, 0, 0o600)
    [diff] = files.diff
    assert diff["before_header"] == program_path + " (not a file of ours: replaced, not read)"
    assert diff["before"] == "" and SECRET not in repr(diff)


def test_a_file_of_several_links_where_the_program_should_be_is_replaced_not_written_through(host, tmp_path):
    host.sync(record())
    program_path = host.layout.program_path("o-1")
    other = tmp_path / "other-name"
    os.link(program_path, str(other))
    files, change = host.sync(dict(record(), program=program("o-1", command="/opt/multi-hauser/1.5.2/hauser")),
                              existing=True)
    assert change.program_changed
    assert "1.5.2" in open(program_path).read() and "1.5.2" not in other.read_text()
    assert os.stat(program_path).st_nlink == 1
    assert files.diff[0]["before_header"] == program_path + " (not a file of ours: replaced, not read)"


def test_a_link_where_the_org_directory_should_be_is_replaced_by_a_directory(host, root_only):
    directory, _secret = root_only
    host.base.mkdir(mode=0o755)
    org_dir = host.layout.org_dir("o-1")
    os.symlink(str(directory), org_dir)
    before = sorted(os.listdir(str(directory)))
    files, _change = host.sync(record(dirs=[host.layout.tmp_dir("o-1")]))
    assert sorted(os.listdir(str(directory))) == before  # nothing written through the link
    assert not os.path.islink(org_dir) and host.owner_and_mode(org_dir) == (0, GID, 0o750)
    assert sorted(os.listdir(org_dir)) == ["config.toml", "tmp"]
    assert files.diff[0]["before"] == {"path": org_dir, "state": "not a directory (replaced, not followed)"}


def test_a_file_where_the_tmp_directory_should_be_is_replaced_by_a_directory(host):
    host.sync(record(dirs=[host.layout.tmp_dir("o-1")]))
    os.rmdir(host.layout.tmp_dir("o-1"))
    with open(host.layout.tmp_dir("o-1"), "w") as handle:
        handle.write("not a directory\n")
    files, change = host.sync(record(dirs=[host.layout.tmp_dir("o-1")]), existing=True)
    assert not change.config_changed and files.attrs_changed
    assert os.path.isdir(host.layout.tmp_dir("o-1"))
    assert host.owner_and_mode(host.layout.tmp_dir("o-1")) == (UID, GID, 0o750)


def test_a_directory_where_the_program_should_be_fails_naming_it(host):
    host.sync(record())
    program_path = host.layout.program_path("o-1")
    os.unlink(program_path)
    os.makedirs(os.path.join(program_path, "inside"))
    with pytest.raises(UnsafePathError) as caught:
        host.sync(dict(record(), program=program("o-1", command="/bin/other")), existing=True)
    assert describe(caught.value) == "%s is a directory, where a file of ours should be: remove it" % program_path
    assert [name for name in os.listdir(str(host.programs)) if name.startswith(".")] == []  # no temporary file left


def test_check_mode_writes_nothing_whatever_was_planted(host, tmp_path, root_only):
    directory, secret = root_only
    save_root = tmp_path / "save"
    save_root.mkdir()
    old_layout(host, save_root)
    os.unlink(host.layout.config_path("o-1"))
    os.symlink(str(secret), host.layout.config_path("o-1"))
    os.rmdir(host.layout.tmp_dir("o-1"))
    os.symlink(str(directory), host.layout.tmp_dir("o-1"))
    before = host.snapshot(), as_before(str(secret)), as_before(str(directory))
    files, change = host.sync(record(key=NEW_KEY, dirs=[host.layout.tmp_dir("o-1")]), existing=True, check=True)
    assert (host.snapshot(), as_before(str(secret)), as_before(str(directory))) == before
    assert change.config_changed and files.attrs_changed
    assert SECRET not in repr(files.diff) and NEW_KEY not in repr(files.diff)
    assert host.layout.config_path("o-1") + " (not a file of ours: replaced, not read)" in [
        diff["before_header"] for diff in files.diff]


def test_remove_removes_a_planted_link_not_its_target(host, root_only):
    _directory, secret = root_only
    host.sync(record())
    os.unlink(host.layout.config_path("o-1"))
    os.symlink(str(secret), host.layout.config_path("o-1"))
    os.unlink(host.layout.program_path("o-1"))
    os.symlink(str(secret), host.layout.program_path("o-1"))
    files = host.files()
    files.remove("o-1", host.layout.program_path("o-1"))
    assert not os.path.lexists(host.layout.program_path("o-1")) and not os.path.lexists(host.layout.config_path("o-1"))
    assert open(str(secret)).read() == SECRET + "\n"
    assert SECRET not in repr(files.diff)


def test_nothing_is_read_through_a_link_where_an_org_directory_or_program_should_be(host, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "config.toml").write_text('ExportDelay = "99h"\n')
    (elsewhere / "program.conf").write_text(program("o-9"))
    host.base.mkdir()
    os.symlink(str(elsewhere), host.layout.org_dir("o-9"))
    os.symlink(str(elsewhere / "program.conf"), host.layout.program_path("o-9"))
    files = host.files()
    assert files.export_delay("o-9") is None and files.config_text("o-9") is None
    assert files.managed_programs() == {}


# --- the deployment's directories ----------------------------------------------------------------


def test_missing_deployment_directories_are_made_root_s_with_the_group(tmp_path):
    layout = Layout(str(tmp_path / "base"), str(tmp_path / "conf.d"), local_save_dir=str(tmp_path / "save"))
    files = OrgFiles(layout, UID, GID)
    files.sync(record(dirs=[layout.tmp_dir("o-1"), layout.save_dir("o-1")]), False)
    for path in (tmp_path / "base", tmp_path / "conf.d", tmp_path / "save"):
        assert (os.lstat(str(path)).st_uid, os.lstat(str(path)).st_gid, stat.S_IMODE(os.lstat(str(path)).st_mode)) == \
            (0, GID, 0o750), path
    assert files.attrs_changed
    assert os.path.isfile(layout.program_path("o-1")) and os.path.isdir(layout.save_dir("o-1"))


def test_check_mode_makes_no_deployment_directory(tmp_path):
    layout = Layout(str(tmp_path / "base"), str(tmp_path / "conf.d"), local_save_dir=str(tmp_path / "save"))
    files = OrgFiles(layout, UID, GID, check=True)
    change = files.sync(record(dirs=[layout.tmp_dir("o-1"), layout.save_dir("o-1")]), False)
    assert change.config_changed and change.program_changed and files.attrs_changed
    assert sorted(os.listdir(str(tmp_path))) == []
    assert layout.save_dir("o-1") in [diff["after_header"] for diff in files.diff]


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o777])
def test_a_directory_others_may_write_in_is_not_trusted_nor_what_is_below_it(tmp_path, mode):
    writable = tmp_path / "writable"
    (writable / "below").mkdir(parents=True)
    os.chmod(str(writable), mode)
    for path in (writable, writable / "below"):
        with pytest.raises(UnsafePathError) as caught:
            check_trusted(str(path))
        assert describe(caught.value) == ("%s (on the way to %s) is not owned by root, or others may write in it: root "
                                          "will not manage files under it" % (writable, path))


def test_a_sticky_directory_others_may_write_in_is_trusted_as_tmp_is(tmp_path):
    sticky = tmp_path / "sticky"
    (sticky / "below").mkdir(parents=True)
    os.chmod(str(sticky), 0o1777)
    assert check_trusted(str(sticky / "below")) == str(sticky / "below")


def test_a_link_to_a_trusted_directory_is_followed_for_the_operator(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(str(tmp_path / "real"), str(tmp_path / "configured"))
    assert check_trusted(str(tmp_path / "configured")) == str(tmp_path / "real")


def test_a_program_directory_of_another_owner_is_refused_before_anything_is_written(tmp_path):
    programs = tmp_path / "conf.d"
    programs.mkdir()
    os.chown(str(programs), UID, GID)
    files = OrgFiles(Layout(str(tmp_path / "base"), str(programs)), UID, GID)
    with pytest.raises(UnsafePathError) as caught:
        files.sync(record(), False)
    assert str(programs) in describe(caught.value)
    assert os.listdir(str(programs)) == []


def test_describe_names_the_path_of_any_error():
    assert describe(OSError(errno.EACCES, "Permission denied", "/etc/supervisor/conf.d/x.conf")) == \
        "/etc/supervisor/conf.d/x.conf: Permission denied"
    assert describe(UnsafePathError(errno.EPERM, "/srv/x is not owned by root")) == "/srv/x is not owned by root"


def test_sync_all_refuses_a_directory_in_the_way_before_any_org_is_written(host):
    host.sync(record("o-2"))
    program_path = host.layout.program_path("o-2")
    os.unlink(program_path)
    os.makedirs(os.path.join(program_path, "inside"))
    before = host.snapshot()
    files = host.files()
    with pytest.raises(UnsafePathError) as caught:
        sync_all(files, {}, [record("o-1"), dict(record("o-2"), program=program("o-2", command="/bin/other"))])
    assert describe(caught.value) == "%s is a directory, where a file of ours should be: remove it" % program_path
    # o-1 (first in the list) got nothing: no org directory, no config, no program
    assert host.snapshot() == before and not os.path.exists(host.layout.org_dir("o-1"))


def test_sync_all_writes_what_sync_writes(host):
    changes = sync_all(host.files(), {}, [record("o-1"), record("o-2")])
    assert [(change.org_id, change.new) for change in changes] == [("o-1", True), ("o-2", True)]
    assert os.path.isfile(host.layout.config_path("o-2")) and os.path.isfile(host.layout.program_path("o-1"))


def test_check_mode_refuses_what_the_run_would_refuse(host):
    host.sync(record())
    os.unlink(host.layout.config_path("o-1"))
    os.makedirs(os.path.join(host.layout.config_path("o-1"), "inside"))
    with pytest.raises(UnsafePathError, match="is a directory, where a file of ours should be"):
        host.sync(record(key=NEW_KEY), existing=True, check=True)


def test_check_mode_refuses_a_missing_deployment_directory_under_one_others_may_change(tmp_path):
    writable = tmp_path / "writable"
    writable.mkdir()
    os.chmod(str(writable), 0o777)
    layout = Layout(str(writable / "missing" / "base"), str(tmp_path / "conf.d"))
    with pytest.raises(UnsafePathError) as caught:
        OrgFiles(layout, UID, GID, check=True).sync(record(), False)
    assert describe(caught.value).startswith("%s (on the way to %s) is not owned by root" % (writable, writable))
    assert os.listdir(str(writable)) == []

# t/persister.t: ddt-persister (SPEC 8, 9.7) between a real redis-server and
# MongoDB (the wire-protocol test server, or a real mongod with
# DDT_TEST_MONGO_URI): snapshot entries end up in `sessions` and `turns`
# exactly, an older ver never replaces a newer one, a replay is a no-op,
# ended and deleted sessions, durable marks and their PUBLISH, the
# dead-letter stream, restore found / missing / expired (and never over a
# newer session), trimming only what every group acknowledged, SIGTERM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::More;
use Time::HiRes qw(time sleep);
use DDTRedis;
use DDTPersister;

plan skip_all => 'build/persister not built (make -C persister)'
    unless DDTPersister::available();

my $Redis = DDTRedis::start_redis();
my $RP = $Redis->{port};
my $M = DDTPersister::start_mongo(db => "ddt_test_persister_$$");
my $P = DDTPersister::start_persister(
    redis => $RP, mongo => $M, consumer => 'p1',
    args => { '--shards' => 2, '--turns-ttl-days' => 30,
              '--sessions-ttl-days' => 7, '--trim-interval-ms' => 100 });

sub cmd { DDTRedis::cmd($RP, @_) }
sub wait_until { DDTRedis::wait_until(@_) }
sub xadd { DDTPersister::xadd($RP, @_, shards => 2) }

sub session_doc {
    my $sid = shift;
    my $d = DDTPersister::find($M, 'sessions', { _id => $sid });
    return $d->[0];
}

sub turns_of {
    my $sid = shift;
    return DDTPersister::find($M, 'turns', { sid => $sid });
}

# ---- a conversation ends up in sessions and turns exactly -------------------

{
    my @sids = ('conv-aaaa-0001', 'conv-dddd-0004', 'conv-cccc-0003');
    my %shards = map { DDTPersister::shard($_, 2) => 1 } @sids;
    my $sub = DDTPersister::subscribe($RP, 'ddt:durable');
    for my $ver (1 .. 4) {
        for my $sid (@sids) {
            xadd($sid, $ver, critical => ($ver == 2 ? 1 : 0),
                 ($ver == 4 && $sid eq $sids[2]) ? (status => 'ended') : ());
        }
    }
    wait_until('three sessions at ver 4', sub {
        my $n = grep { my $d = session_doc($_); $d && $d->{ver} == 4 } @sids;
        return $n == 3;
    });

    for my $sid (@sids) {
        my $d = session_doc($sid);
        my $ended = $sid eq $sids[2];
        my $at = DDTPersister::iso(1764100000000 + 4000);
        is_deeply($d, {
            _id => $sid, ver => 4, project => 'clinic', projectVersion => 'v1',
            status => $ended ? 'ended' : 'waiting',
            state => DDTPersister::state_json($sid, 4,
                                              $ended ? (status => 'ended') : ()),
            updatedAt => $at, $ended ? (endedAt => $at) : (),
        }, "sessions document of $sid: ver 4, fields of SPEC 9.7, the state "
           . "as the stream held it" . ($ended ? ', endedAt' : ''));

        my $t = turns_of($sid);
        is_deeply($t, [ map {
            { _id => "$sid:$_", sid => $sid, ver => $_,
              at => DDTPersister::iso(1764100000000 + $_ * 1000),
              input => { text => "utterance $_" },
              response => { version => $_, messages => [{ text => "prompt $_" }] },
              critical => ($_ == 2 ? JSON::PP::true : JSON::PP::false) }
        } 1 .. 4 ], "turns of $sid: one document per ver, _id <sid>:<ver>");

        is(cmd('GET', 'ddt:{' . DDTPersister::shard($sid, 2) . "}:d:$sid"), 4,
           "ddt:{shard}:d:$sid holds the highest durable ver");
    }
    ok(keys %shards == 2, 'the sessions live on both shards');

    my %seen;
    while (my $m = DDTPersister::next_message($sub, 1)) {
        my ($sid, $ver) = $m->[1] =~ /^(.*):(\d+)$/ or next;
        $seen{$sid} = $ver if $ver > ($seen{$sid} // 0);
        last if (grep { ($seen{$_} // 0) == 4 } @sids) == 3;
    }
    is_deeply(\%seen, { map { $_ => 4 } @sids },
              'ddt:durable announced <sid>:<ver> up to ver 4 for each session');
    close $sub;

    my %ix = map { $_->{name} => $_ } @{ DDTPersister::indexes($M, 'turns') };
    ok($ix{sid_ver} && $ix{sid_ver}{unique}, 'turns: unique index (sid, ver)');
    is($ix{at_ttl} && $ix{at_ttl}{expireAfterSeconds}, 30 * 86400,
       'turns: TTL index on at (turns_ttl_days 30)');
    my %sx = map { $_->{name} => $_ } @{ DDTPersister::indexes($M, 'sessions') };
    is($sx{endedAt_ttl} && $sx{endedAt_ttl}{expireAfterSeconds}, 7 * 86400,
       'sessions: TTL index on endedAt (sessions_ttl_days 7)');
}

# ---- an older ver never replaces a newer one; a replay is a no-op ------------

{
    my $sid = 'order-guard-01';
    xadd($sid, 5, memory => { v => 'five' });
    wait_until('ver 5', sub { my $d = session_doc($sid); $d && $d->{ver} == 5 });
    xadd($sid, 3, memory => { v => 'three' });
    xadd($sid, 5, memory => { v => 'five again' });
    cmd('XADD', 'ddt:{' . DDTPersister::shard($sid, 2) . '}:snapshots', '*',
        'sid', $sid, 'ver', 'x');               # malformed: a fence
    wait_until('ver 3 and the replay handled', sub {
        (grep { $_->{ver} == 3 } @{ turns_of($sid) })
            && @{ DDTRedis::xrange($RP, 'ddt:{'
                  . DDTPersister::shard($sid, 2) . '}:deadletter') };
    });
    my $d = session_doc($sid);
    is($d->{ver}, 5, 'a late ver 3 leaves the session at ver 5');
    is($d->{state}, DDTPersister::state_json($sid, 5, memory => { v => 'five' }),
       'the state is still ver 5 as first written: the replay changed nothing');
    is_deeply([ map { $_->{ver} } @{ turns_of($sid) } ], [3, 5],
              'turns: ver 3 added, ver 5 once');

    # out of order inside one batch, without coalescing (restart)
    DDTPersister::stop_persister($P);
    my $sid2 = 'order-guard-02';
    xadd($sid2, 7);
    xadd($sid2, 6);
    xadd($sid2, 2);
    $P = DDTPersister::start_persister(
        redis => $RP, mongo => $M, consumer => 'p1',
        args => { '--shards' => 2, '--coalesce' => 'off',
                  '--trim-interval-ms' => 100 });
    wait_until('three turns of order-guard-02',
               sub { @{ turns_of($sid2) } == 3 });
    is(session_doc($sid2)->{ver}, 7,
       'vers 7, 6, 2 in one batch, coalescing off: the session stays at 7');
}

# ---- a deleted snapshot ---------------------------------------------------------

{
    my $sid = 'deleted-sess-1';
    xadd($sid, 1);
    xadd($sid, 2);
    xadd($sid, 2, critical => 1, deleted => 1,
         turn => DDTPersister::turn_json(2, input => undef,
                                         response => undef, at => 1764100009000));
    wait_until('deleted', sub { my $d = session_doc($sid); $d && $d->{deleted} });
    my $d = session_doc($sid);
    is($d->{ver}, 2, 'deleted session keeps its ver');
    is_deeply($d->{endedAt}, DDTPersister::iso(1764100009000),
              'a deleted session gets endedAt = the deletion time');
    is(scalar @{ turns_of($sid) }, 2, 'the deletion adds no turn');
}

# ---- a malformed entry goes to the dead-letter stream -----------------------------

{
    my $sid = 'dead-letter-01';
    my $key = 'ddt:{' . DDTPersister::shard($sid, 2) . '}:snapshots';
    my $dl = 'ddt:{' . DDTPersister::shard($sid, 2) . '}:deadletter';
    my $before = @{ DDTRedis::xrange($RP, $dl) };
    my $bad = cmd('XADD', $key, '*', 'sid', $sid, 'ver', '1', 'critical', '0',
                  'state', '{"status": "waiting"', 'turn', '{}');
    xadd($sid, 2);
    wait_until('ver 2 written', sub { my $d = session_doc($sid); $d && $d->{ver} == 2 });
    my $dls = DDTRedis::xrange($RP, $dl);
    is(scalar @$dls, $before + 1, 'one entry in the dead-letter stream');
    my $e = $dls->[-1];
    is($e->{id} ne '' && $e->{reason}, 'state is not a JSON object',
       'the dead letter says why');
    is_deeply([@$e{qw(stream id sid ver state)}],
              [$key, $bad, $sid, 1, '{"status": "waiting"'],
              'the dead letter keeps the stream, the entry id and its fields');
    is_deeply([ map { $_->{ver} } @{ turns_of($sid) } ], [2],
              'the entry after it is written');
    wait_until('nothing pending', sub {
        my $x = cmd('XPENDING', $key, 'ddt-persister');
        ref $x eq 'ARRAY' && $x->[0] == 0;
    });
    pass('the malformed entry is acknowledged: it never blocks the stream');
    like(DDTPersister::log_text($P), qr/error: entry \Q$bad\E .*moved to/,
         'one error log line for it');
}

# ---- a turn MongoDB refuses as a document ------------------------------------

SKIP: {
    skip 'needs the faults of the wire test server', 6 if $M->{real};
    DDTPersister::ctl($M, 'reject_dollar on');
    my $resp = { version => 1, memory => { '$meta' => { 'a.b' => 1 } } };
    my $sid = 'raw-fallback-01';
    xadd($sid, 1, response => $resp);
    wait_until('the raw turn', sub { @{ turns_of($sid) } });
    my $t = turns_of($sid)->[0];
    ok($t->{raw}, 'a turn refused as a document is written again, raw: true');
    is_deeply(JSON::PP->new->decode($t->{response}), $resp,
              'with the response as its JSON text');
    is(session_doc($sid)->{ver}, 1, 'and its session');

    DDTPersister::ctl($M, 'reject_field raw');
    my $sid2 = 'raw-fallback-02';
    my $dl = 'ddt:{' . DDTPersister::shard($sid2, 2) . '}:deadletter';
    my $before = @{ DDTRedis::xrange($RP, $dl) };
    xadd($sid2, 1, response => $resp);
    wait_until('dead letter', sub { @{ DDTRedis::xrange($RP, $dl) } > $before });
    my $e = DDTRedis::xrange($RP, $dl)->[-1];
    is($e->{sid}, $sid2, 'refused in both forms: to the dead-letter stream');
    like($e->{reason}, qr/mongodb turns: .*refused/, 'with MongoDB\'s reason');
    is(scalar @{ turns_of($sid2) }, 0, 'and no turn document');
    DDTPersister::ctl($M, 'reject_dollar off');
    DDTPersister::ctl($M, 'reject_field');
}

# ---- garbage in the stream -----------------------------------------------------------

{
    srand(20261126);
    my $sid = 'garbage-after-1';
    my $key = 'ddt:{' . DDTPersister::shard($sid, 2) . '}:snapshots';
    my $dl = 'ddt:{' . DDTPersister::shard($sid, 2) . '}:deadletter';
    my $before = @{ DDTRedis::xrange($RP, $dl) };
    my @junk = ('', '{', '[]', 'null', '"x"', "\xff\xfe", "{\"a\":\"\xc0\x80\"}",
                '{"a":1,"a":2}', '{"status":"waiting"} x', "\0", '1e999',
                '{"status":5}', ('[' x 300) . (']' x 300));
    my @vers = ('', '0', '-1', '1.5', 'x', '18446744073709551616', ' 1', '+1');
    my $n = 0;
    for my $i (1 .. 60) {
        my @f;
        push @f, 'sid', (rand() < 0.3 ? 'bad sid!' : "garbage-$i") if rand() < 0.9;
        push @f, 'ver', (rand() < 0.5 ? $vers[rand @vers] : int(rand 9) + 1)
            if rand() < 0.9;
        push @f, 'state', $junk[rand @junk] if rand() < 0.9;
        push @f, 'turn', $junk[rand @junk] if rand() < 0.9;
        push @f, 'critical', '1' if rand() < 0.3;
        @f = ('junk', 'x') unless @f;
        cmd('XADD', $key, '*', @f);
        $n++;
    }
    xadd($sid, 1);
    wait_until('the good entry after the garbage', sub { @{ turns_of($sid) } });
    is(scalar(@{ DDTRedis::xrange($RP, $dl) }) - $before, $n,
       "$n malformed entries: $n dead letters");
    ok(kill(0, $P->{pid}), 'the persister is still running');
    wait_until('nothing pending', sub {
        my $x = cmd('XPENDING', $key, 'ddt-persister');
        ref $x eq 'ARRAY' && $x->[0] == 0;
    });
    pass('all acknowledged');
}

# ---- restore ---------------------------------------------------------------------

{
    my $now = int(time * 1000);
    my $sid = 'restore-me-0001';
    my $shard = DDTPersister::shard($sid, 2);
    xadd($sid, 1, at => $now - 2000);
    xadd($sid, 2, at => $now - 1000, memory => { step => 'two' });
    xadd('restore-old-0001', 1, at => $now - 7200 * 1000);
    wait_until('written', sub {
        my $d = session_doc($sid);
        $d && $d->{ver} == 2 && session_doc('restore-old-0001');
    });

    my $sub = DDTPersister::subscribe($RP, 'ddt:restored');
    my $t0 = time;
    cmd('XADD', 'ddt:restore', '*', 'sid', $sid, 'reply', 'nonce-1');
    my $m = DDTPersister::next_message($sub, 3);
    my $dt = time - $t0;
    is($m && $m->[1], 'nonce-1:found', 'restore of a known session: found');
    cmp_ok($dt, '<', 3, 'answered at once (well within the test bound)');
    my $h = cmd('HGETALL', "ddt:{$shard}:s:$sid");
    my %h = ref $h ? @$h : ();
    is_deeply(\%h, { ver => 2, status => 'waiting',
                     state => DDTPersister::state_json($sid, 2,
                                                       memory => { step => 'two' }) },
              'the session key holds ver 2, its status and state, as the module '
              . 'wrote them');
    my $ttl = cmd('PTTL', "ddt:{$shard}:s:$sid");
    ok($ttl > 3590 * 1000 && $ttl <= 3600 * 1000,
       "its TTL is what is left of session_timeout ($ttl ms)");

    cmd('XADD', 'ddt:restore', '*', 'sid', 'never-existed-1', 'reply', 'nonce-2');
    $m = DDTPersister::next_message($sub, 3);
    is($m && $m->[1], 'nonce-2:missing', 'unknown session: missing');
    is(cmd('EXISTS', 'ddt:{' . DDTPersister::shard('never-existed-1', 2)
           . '}:s:never-existed-1'), 0, 'and nothing written');

    cmd('XADD', 'ddt:restore', '*', 'sid', 'restore-old-0001', 'reply', 'nonce-3');
    $m = DDTPersister::next_message($sub, 3);
    is($m && $m->[1], 'nonce-3:expired',
       'a session idle past session_timeout: expired');

    cmd('XADD', 'ddt:restore', '*', 'sid', 'deleted-sess-1', 'reply', 'nonce-4');
    $m = DDTPersister::next_message($sub, 3);
    is($m && $m->[1], 'nonce-4:missing', 'a deleted session is not restored');

    # Redis already has a newer ver: it is kept
    cmd('HSET', "ddt:{$shard}:s:$sid", 'ver', 9, 'state', 'newer');
    cmd('XADD', 'ddt:restore', '*', 'sid', $sid, 'reply', 'nonce-5');
    $m = DDTPersister::next_message($sub, 3);
    is($m && $m->[1], 'nonce-5:found', 'restore with a newer session in Redis');
    is(cmd('HGET', "ddt:{$shard}:s:$sid", 'state'), 'newer',
       'the newer session in Redis is not replaced');
    close $sub;
}

# ---- trimming waits for every consumer group ----------------------------------------

{
    my $sid = 'trim-check-0001';
    my $key = 'ddt:{' . DDTPersister::shard($sid, 2) . '}:snapshots';
    cmd('XGROUP', 'CREATE', $key, 'analytics', '$');
    my @ids = map { xadd($sid, $_) } 1 .. 5;
    wait_until('written', sub { my $d = session_doc($sid); $d && $d->{ver} == 5 });
    sleep 0.5;                                  # a few trim rounds
    my $left = DDTRedis::xrange($RP, $key);
    is_deeply([ grep { my $id = $_; grep { $_->{id} eq $id } @$left } @ids ],
              \@ids, 'entries another group has not read are not trimmed');
    my $r = cmd('XREADGROUP', 'GROUP', 'analytics', 'a1', 'COUNT', 100,
                'STREAMS', $key, '>');
    cmd('XACK', $key, 'analytics', @ids);
    wait_until('trimmed', sub {
        my $l = DDTRedis::xrange($RP, $key);
        !grep { my $id = $_; grep { $_->{id} eq $id } @$l } @ids[0 .. 3];
    }, 5);
    pass('once every group acknowledged them, they are trimmed');
    cmd('XGROUP', 'DESTROY', $key, 'analytics');
}

# ---- a shard the persister does not read is said -------------------------------------

{
    cmd('XADD', 'ddt:{5}:snapshots', '*', 'sid', 'other-shard-1', 'ver', 1);
    my $q = DDTPersister::start_persister(
        redis => $RP, mongo => $M, consumer => 'p9',
        args => { '--shards' => 2 });
    wait_until('the log line', sub {
        DDTPersister::log_text($q) =~ /stream ddt:\{5\}:snapshots is not read/;
    }, 5);
    pass('a stream of shard 5 with shards 2: an error line at start');
    DDTPersister::stop_persister($q);
    cmd('DEL', 'ddt:{5}:snapshots');
}

# ---- configuration ------------------------------------------------------------------

{
    my $bin = $DDTPersister::Bin;
    my $out = `$bin --config $DDTPersister::Root/conf/ddt-persister.conf --help 2>&1`;
    is($?, 0, 'conf/ddt-persister.conf is read without an error');
    my $bad = "$DDTRedis::Dir/bad.conf";
    open my $f, '>', $bad or die $!;
    print {$f} "# comment\nbatch_max = 10\nbatch_ms = soon\n";
    close $f;
    $out = `$bin --config $bad 2>&1`;
    is($? >> 8, 2, 'a bad setting: exit 2');
    like($out, qr/bad\.conf:3: bad setting "batch_ms" = "soon"/,
         'with the file, the line and the setting');
    $out = `$bin --no-such-flag 1 2>&1`;
    is($? >> 8, 2, 'an unknown flag: exit 2');
}

# ---- heartbeat, metrics, SIGTERM ----------------------------------------------------

{
    ok(cmd('PTTL', 'ddt:persister:alive') > 0, 'the heartbeat key has a TTL');
    my $mt = DDTPersister::metrics($P);
    cmp_ok($mt->{ddt_persister_entries_written_total}, '>', 0,
           'metrics: entries written');
    is($mt->{ddt_persister_mongo_up}, 1, 'metrics: mongo_up 1');
    ok(exists $mt->{'ddt_persister_restore_seconds_bucket{le="0.05"}'},
       'metrics: restore latency histogram');

    my $sid = 'sigterm-sess-01';
    xadd($sid, $_) for 1 .. 20;
    kill 'TERM', $P->{pid};
    my $rc = DDTPersister::wait_exit($P, 10);
    is($rc, 0, 'SIGTERM: exits 0');
    my $x = cmd('XPENDING', 'ddt:{' . DDTPersister::shard($sid, 2)
                . '}:snapshots', 'ddt-persister');
    my $n = @{ turns_of($sid) };
    is($x->[0], 0, "SIGTERM: nothing left pending ($n turns written so far)");
    like(DDTPersister::log_text($P), qr/info: stopped/, 'logs that it stopped');
}

done_testing();

# t/redis.t: the Redis session store (SPEC 8, 9.4, 9.7) against a real
# redis-server that the suite starts on a free loopback port: a conversation
# lives in the session key, turnId replays, the version race (409 with
# nothing written), TTL renewal and expiry, one stream entry per committed
# turn with the fields of SPEC 9.7, DELETE's `deleted` snapshot, the outbox,
# shards, and a BackendCall (a subrequest started from a Redis reply).
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use Time::HiRes qw(time sleep);

no_shuffle();

our $Redis = DDTRedis::start_redis();
$ENV{TEST_NGINX_REDIS_PORT} = $Redis->{port};
our $RP = $Redis->{port};

# a second one, reached through a unix socket only
our $Sock = "$DDTRedis::Dir/redis-unix.sock";
our $RedisUnix = DDTRedis::start_redis(
    extra => [ '--unixsocket', $Sock, '--unixsocketperm', '777' ]);
$ENV{TEST_NGINX_REDIS_SOCKET} = $Sock;

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/backend.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/outbox.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_timeout 3s;
_EOC_
    config => $DDTTest::ApiConfig . <<'_EOC_',
    location = /slow {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/slow_origin;
    }
    location = /slow_origin {
        limit_rate 200;
        default_type application/json;
        return 200 '{"ok": true, "pad": "........................................................................................................................................................................"}';
    }
_EOC_
    more_headers => "Content-Type: application/json",
    timeout => 15,
);

sub r { DDTRedis::cmd($RP, @_) }
sub skey { DDTRedis::key('s', $_[0], $_[1]) }
sub tkey { DDTRedis::key('t', $_[0], $_[1]) }

# stream entries of one session, oldest first
sub entries {
    my ($id, $shards) = @_;
    my $all = DDTRedis::xrange($RP, DDTRedis::key('snapshots', $id, $shards));
    return [ grep { $_->{sid} eq $id } @$all ];
}

sub turn_raw {
    my ($id, $body) = @_;
    DDTTest::raw_request('POST', "/v1/sessions/$id/turns", $body);
}

run_tests();

__DATA__

=== TEST 1: a conversation is kept in Redis: session hash with the TTL, durable false in every turn response
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-conv-0001\"}",
"POST /v1/sessions/redis-conv-0001/turns\n{\"text\": \"one\"}",
"POST /v1/sessions/redis-conv-0001/turns\n{\"text\": \"two\"}",
"GET /v1/sessions/redis-conv-0001",
"GET /v1/health",
]
--- error_code eval
[201, 200, 200, 200, 200]
--- json eval
[
 { version => 1, status => 'waiting', durable => \0 },
 { version => 2, 'messages.0.text' => 'You said one.', durable => \0 },
 { version => 3, 'messages.0.text' => 'You said two.', durable => \0 },
 { version => 3, status => 'waiting', durable => '<absent>' },
 { status => 'ok' },
]
--- after eval
{
    2 => sub {
        my $name = $_[0]->name;
        my $h = main::r('HGETALL', main::skey('redis-conv-0001'));
        my %h = @$h;
        Test::More::is($h{ver}, 3, "$name - the hash holds ver 3");
        Test::More::is($h{status}, 'waiting', "$name - and the status");
        Test::More::ok(DDTTest::decode($h{state}), "$name - and the state JSON");
        my $ttl = main::r('PTTL', main::skey('redis-conv-0001'));
        Test::More::ok($ttl > 3500_000 && $ttl <= 3600_000,
                       "$name - TTL is ddt_session_timeout (1h): $ttl");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 2: a turnId replay answers the stored response (with durable) and does not advance the session
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-replay-01\"}",
"POST /v1/sessions/redis-replay-01/turns\n{\"text\": \"hello\", \"turnId\": \"t-1\"}",
"POST /v1/sessions/redis-replay-01/turns\n{\"text\": \"hello\", \"turnId\": \"t-1\"}",
"POST /v1/sessions/redis-replay-01/turns\n{\"text\": \"other\", \"turnId\": \"t-1\"}",
"GET /v1/sessions/redis-replay-01",
]
--- error_code eval
[201, 200, 200, 422, 200]
--- json eval
[
 undef,
 { version => 2, 'messages.0.text' => 'You said hello.', durable => \0 },
 { version => 2, 'messages.0.text' => 'You said hello.', durable => \0 },
 { 'error.code' => 'turn_id_reused' },
 { version => 2 },
]
--- after eval
{
    4 => sub {
        my $name = $_[0]->name;
        my $t = main::r('HGETALL', main::tkey('redis-replay-01'));
        Test::More::is_deeply($t, ['t-1', '2'], "$name - the turnId key maps t-1 to ver 2");
        Test::More::is(scalar @{ main::entries('redis-replay-01') }, 2,
                       "$name - two snapshots (creation and one turn), none for the replay");
    },
}
--- no_error_log
[error]



=== TEST 3: two turns read the same version: one commits, the other is 409 and writes nothing
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-race-0001\"}",
"GET /v1/sessions/redis-race-0001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        # writes wait (reads do not) while Redis is paused for writes: both
        # turns read version 1 before either script runs
        main::r('CLIENT', 'PAUSE', '1500', 'WRITE');
        my @r = DDTTest::at_once(
            main::turn_raw('redis-race-0001', '{"text": "first"}'),
            main::turn_raw('redis-race-0001', '{"text": "second"}'));
        my @codes = sort map { $_->{code} } @r;
        Test::More::is("@codes", "200 409", "$name - one 200, one 409");
        my ($win) = grep { $_->{code} == 200 } @r;
        my ($lose) = grep { $_->{code} == 409 } @r;
        my $wj = DDTTest::decode($win->{body} // '') || {};
        my $lj = DDTTest::decode($lose->{body} // '') || {};
        Test::More::is($lj->{error}{code}, 'conflict', "$name - the loser says conflict");
        Test::More::is($wj->{version}, 2, "$name - the winner committed version 2");
        my %h = @{ main::r('HGETALL', main::skey('redis-race-0001')) };
        Test::More::is($h{ver}, 2, "$name - Redis holds version 2");
        my $e = main::entries('redis-race-0001');
        Test::More::is(scalar @$e, 2, "$name - one snapshot for the creation, one for the winner");
        my $turn = DDTTest::decode($e->[-1]{turn} // '') || {};
        Test::More::is($turn->{response}{messages}[0]{text},
                       $wj->{messages}[0]{text}, "$name - the snapshot is the winner's turn");
    },
}
--- json eval
[ undef, { version => 2 } ]
--- no_error_log
[alert]



=== TEST 4: turns that wait on a BackendCall both run; the slower one is 409 with nothing written
--- request eval
[
"POST /v1/sessions\n{\"project\": \"backend\", \"sessionId\": \"redis-race-bk01\"}",
"GET /v1/sessions/redis-race-bk01",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my $v0 = { @{ main::r('HGETALL', main::skey('redis-race-bk01')) } }->{ver};
        my $n0 = scalar @{ main::entries('redis-race-bk01') };
        my @r = DDTTest::at_once(
            main::turn_raw('redis-race-bk01', '{"text": "first"}'),
            main::turn_raw('redis-race-bk01', '{"text": "second"}'));
        my @codes = sort map { $_->{code} } @r;
        Test::More::is("@codes", "200 409", "$name - one 200, one 409");
        my %h = @{ main::r('HGETALL', main::skey('redis-race-bk01')) };
        Test::More::is($h{ver}, $v0 + 1, "$name - one version committed");
        Test::More::is(scalar @{ main::entries('redis-race-bk01') }, $n0 + 1,
                       "$name - one snapshot appended");
    },
}
--- no_error_log
[alert]



=== TEST 5: a turn renews the TTL, a GET does not, an idle session expires (404)
--- http_config
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_session_timeout 3s;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-ttl-00001\"}",
"GET /v1/sessions/redis-ttl-00001",
"POST /v1/sessions/redis-ttl-00001/turns\n{\"text\": \"again\"}",
"GET /v1/sessions/redis-ttl-00001",
]
--- error_code eval
[201, 200, 200, 404]
--- after eval
{
    0 => sub {
        my $ttl = main::r('PTTL', main::skey('redis-ttl-00001'));
        Test::More::ok($ttl > 2000 && $ttl <= 3000, "TTL is 3 s after creation: $ttl");
        Time::HiRes::sleep(1.2);
    },
    1 => sub {
        my $ttl = main::r('PTTL', main::skey('redis-ttl-00001'));
        Test::More::ok($ttl > 0 && $ttl < 2000, "a GET does not renew: $ttl");
    },
    2 => sub {
        my $ttl = main::r('PTTL', main::skey('redis-ttl-00001'));
        Test::More::ok($ttl > 2500, "a turn renews: $ttl");
        my $tt = main::r('PTTL', main::tkey('redis-ttl-00001'));
        Time::HiRes::sleep(3.3);
    },
}
--- json eval
[ undef, { version => 1 }, { version => 2 }, { 'error.code' => 'session_not_found' } ]
--- no_error_log
[error]



=== TEST 6: every committed turn is one stream entry: sid, ver, critical, state, turn {input, response, at}
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"redis-xadd-0001\"}",
"POST /v1/sessions/redis-xadd-0001/turns\n{\"text\": \"Mario Rossi\"}",
"POST /v1/sessions/redis-xadd-0001/turns\n{\"dtmf\": \"1#\"}",
"POST /v1/sessions/redis-xadd-0001/turns\n{\"event\": \"noInput\"}",
]
--- error_code_like eval
[qr/^201$/, qr/^200$/, qr/^200$/, qr/^(200|410)$/]
--- after eval
+{
    map {
        my $i = $_;
        ($i => sub {
            my ($block, $body) = @_;
            my $name = $block->name;
            my $resp = DDTTest::decode($body) || {};
            return unless $resp->{version};
            my $e = main::entries('redis-xadd-0001');
            Test::More::is(scalar @$e, $i + 1, "$name - $i: one entry per committed turn");
            my $x = $e->[-1];
            Test::More::is($x->{ver}, $resp->{version}, "$name - $i: ver is the response's version");
            Test::More::like($x->{critical}, qr/^[01]$/, "$name - $i: critical is 0 or 1");
            my $state = DDTTest::decode($x->{state});
            Test::More::ok(ref $state eq 'HASH', "$name - $i: state is a JSON object");
            my %h = @{ main::r('HGETALL', main::skey('redis-xadd-0001')) };
            Test::More::is($x->{state}, $h{state}, "$name - $i: the entry's state is the stored state");
            my $turn = DDTTest::decode($x->{turn}) || {};
            my $want = { %$resp };
            delete $want->{durable};
            Test::More::is_deeply($turn->{response}, $want, "$name - $i: turn.response is the response (without durable)");
            my @inputs = ({ project => 'booking', sessionId => 'redis-xadd-0001' },
                          { text => 'Mario Rossi' }, { dtmf => '1#' }, { event => 'noInput' });
            Test::More::is_deeply($turn->{input}, $inputs[$i], "$name - $i: turn.input is the request body");
            Test::More::ok(($turn->{at} // 0) == 1795687200000, "$name - $i: turn.at is the turn's time (ms)")
                or Test::More::diag("at: " . ($turn->{at} // 'undef'));
        })
    } 0 .. 3
}
--- no_error_log
[error]



=== TEST 7: DELETE drops the session and its turnIds and appends a deleted snapshot
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-del-00001\"}",
"POST /v1/sessions/redis-del-00001/turns\n{\"text\": \"x\", \"turnId\": \"d-1\"}",
"DELETE /v1/sessions/redis-del-00001",
"GET /v1/sessions/redis-del-00001",
"DELETE /v1/sessions/redis-del-00001",
"POST /v1/sessions/redis-del-00001/turns\n{\"text\": \"y\"}",
]
--- error_code eval
[201, 200, 204, 404, 404, 404]
--- after eval
{
    2 => sub {
        my $name = $_[0]->name;
        Test::More::is(main::r('EXISTS', main::skey('redis-del-00001')), 0, "$name - session key gone");
        Test::More::is(main::r('EXISTS', main::tkey('redis-del-00001')), 0, "$name - turnId key gone");
        my $e = main::entries('redis-del-00001');
        Test::More::is(scalar @$e, 3, "$name - creation, turn, deletion");
        Test::More::is($e->[-1]{deleted}, '1', "$name - the last entry says deleted");
        Test::More::is($e->[-1]{ver}, '2', "$name - at the last version");
        Test::More::is($e->[-1]{critical}, '1', "$name - critical");
    },
}
--- no_error_log
[error]



=== TEST 8: with ddt_redis_shards, keys carry CRC16(id) mod shards as their hash tag
--- http_config
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_shards 16;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-shard-001\"}",
"POST /v1/sessions/redis-shard-001/turns\n{\"text\": \"s\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-shard-002\"}",
]
--- error_code eval
[201, 200, 201]
--- after eval
{
    2 => sub {
        my $name = $_[0]->name;
        for my $id ('redis-shard-001', 'redis-shard-002') {
            my $k = main::skey($id, 16);
            Test::More::is(main::r('EXISTS', $k), 1, "$name - $k exists");
            my $e = main::entries($id, 16);
            Test::More::ok(scalar @$e >= 1, "$name - its stream is " . DDTRedis::key('snapshots', $id, 16));
        }
    },
}
--- no_error_log
[error]



=== TEST 9: a session id that exists is 409 session_exists, and nothing is overwritten
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-dup-00001\"}",
"POST /v1/sessions/redis-dup-00001/turns\n{\"text\": \"kept\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-dup-00001\"}",
"GET /v1/sessions/redis-dup-00001",
]
--- error_code eval
[201, 200, 409, 200]
--- json eval
[ undef, undef, { 'error.code' => 'session_exists' }, { version => 2 } ]
--- no_error_log
[error]



=== TEST 10: sendEmail and sendSMS actions go to the outbox in the turn's write, never again on a replay
--- request eval
[
"POST /v1/sessions\n{\"project\": \"outbox\", \"sessionId\": \"redis-outbox-01\"}",
"POST /v1/sessions/redis-outbox-01/turns\n{\"text\": \"hi\", \"turnId\": \"o-1\"}",
"POST /v1/sessions/redis-outbox-01/turns\n{\"text\": \"hi\", \"turnId\": \"o-1\"}",
]
--- error_code eval
[201, 200, 200]
--- json eval
[ undef, { 'actions.0.type' => 'sendEmail', 'actions.1.type' => 'sendSMS' },
  { version => 2, 'actions.#' => 2 } ]
--- after eval
{
    2 => sub {
        my $name = $_[0]->name;
        my $all = DDTRedis::xrange($main::RP, DDTRedis::key('outbox', 'redis-outbox-01'));
        my @o = grep { $_->{sid} eq 'redis-outbox-01' } @$all;
        Test::More::is(scalar @o, 2, "$name - two outbox entries");
        Test::More::is(CORE::join(',', map { $_->{type} } @o), 'sendEmail,sendSMS', "$name - in order");
        Test::More::is($o[0]{ver}, '2', "$name - of version 2");
        my $a = DDTTest::decode($o[0]{action}) || {};
        Test::More::is($a->{to}, 'ops@example.com', "$name - the action's fields");
    },
}
--- no_error_log
[error]



=== TEST 11: ddt_redis unix:/path: the same store through a unix socket
--- http_config
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis unix:$TEST_NGINX_REDIS_SOCKET;
    ddt_redis_pool_size 1;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"redis-unix-0001\"}",
"POST /v1/sessions/redis-unix-0001/turns\n{\"text\": \"sock\"}",
"GET /v1/health",
]
--- error_code eval
[201, 200, 200]
--- json eval
[ undef, { version => 2, 'messages.0.text' => 'You said sock.', durable => \0 }, undef ]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        Test::More::is(DDTRedis::cmd($main::RedisUnix->{port}, 'HGET',
                                     main::skey('redis-unix-0001'), 'ver'),
                       2, "$name - written to the unix-socket Redis");
        Test::More::is(main::r('EXISTS', main::skey('redis-unix-0001')), 0,
                       "$name - not to the other one");
    },
}
--- no_error_log
[error]

# t/persister_restore.t: the module side of the persister (SPEC 8, 9.7):
# a session Redis lost (FLUSHALL in the middle of a conversation) is
# restored from MongoDB by the next turn, which goes on with the right
# prompt and says "restored": true, "restoredFrom": <ver>; an unknown or
# deleted session is 404, an expired one 410; critical sync: a turn that
# fills a data node answers "durable": true only once MongoDB has its ver,
# false without waiting when critical sync is off or the persister's
# heartbeat is gone, and false after ddt_critical_wait when MongoDB is
# slower than that.  Real redis-server, the real ddt-persister, the
# MongoDB wire test server (or a real mongod with DDT_TEST_MONGO_URI), and
# nginx with the module.  Every wait is bounded.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use DDTPersister;
use Time::HiRes qw(time sleep);
use IO::Socket::INET ();
use IO::Select ();

no_shuffle();

our ($Redis, $RP, $M, $P);

if (!DDTPersister::available()) {
    Test::More::plan(skip_all => 'build/persister is not built');
}

$Redis = DDTRedis::start_redis();
$RP = $Redis->{port};
$ENV{TEST_NGINX_REDIS_PORT} = $RP;
$M = DDTPersister::start_mongo(db => "ddt_test_restore_$$");
$P = DDTPersister::start_persister(redis => $RP, mongo => $M,
                                   consumer => 'restore1');

sub r { DDTRedis::cmd($RP, @_) }

# the ver of a session MongoDB has now (0: none)
sub mongo_ver {
    my $d = DDTPersister::find($M, 'sessions', { _id => $_[0] });
    return @$d ? $d->[0]{ver} : 0;
}

sub mongo_turn {
    my $d = DDTPersister::find($M, 'turns', { _id => $_[0] });
    return scalar @$d;
}

sub wait_heartbeat {
    DDTRedis::wait_until('the persister heartbeat', sub {
        r('EXISTS', 'ddt:persister:alive');
    }, 10);
}

# a critical turn through nginx, timed: [parsed answer, seconds]
sub timed_turn {
    my ($id, $body) = @_;
    my $t0 = time;
    my $res = DDTTest::http('POST', "/v1/sessions/$id/turns", $body);
    return ($res, time - $t0, DDTTest::decode($res->{body}));
}

# An old conversation, known to MongoDB only: its last turn is a year old,
# far past the persister's session_timeout (1 h).
DDTPersister::xadd($RP, 'restore-old-0001', 3, project => 'booking',
                   at => 1764100000000 - 365 * 86400 * 1000);
DDTRedis::wait_until('the old session in MongoDB', sub {
    mongo_ver('restore-old-0001') == 3;
}, 15);

wait_heartbeat();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_timeout 3s;
    ddt_persister on;
    ddt_restore_timeout 3s;
    ddt_critical_wait 1s;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 20,
);

run_tests();

__DATA__

=== TEST 1: critical sync: a turn that fills a data node answers durable true, and MongoDB has that ver when the response arrives; a turn that fills nothing says durable false
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-crit-0001\"}",
"POST /v1/sessions/restore-crit-0001/turns\n{\"text\": \"Mario Rossi\"}",
"POST /v1/sessions/restore-crit-0001/turns\n{\"event\": \"noInput\"}",
]
--- error_code eval
[201, 200, 200]
--- json eval
[
 { version => 1 },
 { version => 2, durable => \1, restored => '<absent>',
   'expecting.data' => 'birthDate' },
 { version => 3, durable => \0 },
]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        # read at once: no waiting, the response promised it
        Test::More::ok(main::mongo_turn('restore-crit-0001:2'),
                       "$name - turns has restore-crit-0001:2 already");
        Test::More::cmp_ok(main::mongo_ver('restore-crit-0001'), '>=', 2,
                           "$name - sessions has ver 2 already");
        my $e = DDTRedis::xrange($main::RP, 'ddt:{0}:snapshots');
        my ($v2) = grep { $_->{sid} eq 'restore-crit-0001'
                          && $_->{ver} == 2 } @$e;
        Test::More::is($v2 && $v2->{critical}, '1',
                       "$name - the stream entry of ver 2 is critical");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 2: a lower ver of the session published first (the persister acknowledged an older turn) does not end the wait; the turn's own ver does
--- request eval
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-order-0001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        SKIP: {
            my $slow = DDTPersister::ctl($main::M, 'delay 150');
            Test::More::skip('a real mongod is not slowed down', 3)
                unless defined $slow;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => DDTTest::port())
                or die "connect: $!";
            my $t0 = Time::HiRes::time();
            print {$s} DDTTest::raw_request('POST',
                '/v1/sessions/restore-order-0001/turns',
                '{"text": "Mario Rossi"}');
            Time::HiRes::sleep(0.08);
            main::r('PUBLISH', 'ddt:durable', 'restore-order-0001:1');
            my $sel = IO::Select->new($s);
            my $buf = '';
            while (Time::HiRes::time() - $t0 < 5 && $sel->can_read(5)) {
                last unless sysread($s, $buf, 65536, length $buf);
            }
            my $secs = Time::HiRes::time() - $t0;
            DDTPersister::ctl($main::M, 'delay 0');
            my $j = DDTTest::decode(DDTTest::parse($buf)->{body});
            Test::More::is($j->{version}, 2, "$name - the turn committed ver 2");
            Test::More::is_deeply($j->{durable}, JSON::PP::true,
                                  "$name - durable true: ver 2 was heard "
                                  . sprintf('after %.3f s', $secs));
            Test::More::cmp_ok($secs, '>=', 0.15,
                               "$name - not before MongoDB had it");
        }
    },
}
--- no_error_log
[error]
[alert]



=== TEST 3: FLUSHALL in the middle of a conversation: the next turn is restored from MongoDB and goes on with the right prompt
--- request eval
[
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-flush-0001\"}",
"POST /v1/sessions/restore-flush-0001/turns\n{\"text\": \"Mario Rossi\"}",
"POST /v1/sessions/restore-flush-0001/turns\n{\"text\": \"12 marzo 1980\"}",
"POST /v1/sessions/restore-flush-0001/turns\n{\"text\": \"sì\"}",
"GET /v1/sessions/restore-flush-0001",
]
--- error_code eval
[201, 200, 200, 200, 200]
--- json eval
[
 { version => 1 },
 { version => 2, durable => \1 },
 { version => 3, restored => \1, restoredFrom => 2, durable => '<present>',
   'messages.0.data' => 'birthDate', 'messages.0.step' => 'confirmation',
   'messages.0.text' => qr/^Ho capito /,
   'expecting.kind' => 'yesno' },
 { version => 4, status => 'ended', restored => '<absent>',
   'messages.0.text' => qr/^Grazie Mario Rossi, nato il / },
 { version => 4, status => 'ended', 'memory.customer.name' => 'Mario Rossi',
   'memory.customer.birthDate.year' => 1980 },
]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        Test::More::is(main::r('FLUSHALL'), 'OK', "$name - FLUSHALL");
        Test::More::is(main::r('EXISTS',
                               DDTRedis::key('s', 'restore-flush-0001')), 0,
                       "$name - Redis has no session now");
    },
    2 => sub {
        my $name = $_[0]->name;
        my %h = @{ main::r('HGETALL',
                           DDTRedis::key('s', 'restore-flush-0001')) };
        Test::More::is($h{ver}, 3, "$name - Redis holds ver 3 again");
        my $ttl = main::r('PTTL', DDTRedis::key('s', 'restore-flush-0001'));
        Test::More::ok($ttl > 3500_000,
                       "$name - with the session TTL renewed: $ttl");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 4: a session no store knows is 404; so is one DELETEd before Redis lost it (its deleted snapshot keeps it from coming back)
--- request eval
[
"POST /v1/sessions/restore-none-0001/turns\n{\"text\": \"hello\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"restore-del-0001\"}",
"POST /v1/sessions/restore-del-0001/turns\n{\"text\": \"one\"}",
"DELETE /v1/sessions/restore-del-0001",
"POST /v1/sessions/restore-del-0001/turns\n{\"text\": \"two\"}",
]
--- error_code eval
[404, 201, 200, 204, 404]
--- json eval
[
 { 'error.code' => 'session_not_found' },
 { version => 1 },
 { version => 2 },
 undef,
 { 'error.code' => 'session_not_found' },
]
--- after eval
{
    3 => sub {
        my $name = $_[0]->name;
        DDTRedis::wait_until('the deletion in MongoDB', sub {
            my $d = DDTPersister::find($main::M, 'sessions',
                                       { _id => 'restore-del-0001' });
            @$d && $d->[0]{deleted};
        }, 15);
        Test::More::is(main::r('FLUSHALL'), 'OK', "$name - FLUSHALL");
        main::wait_heartbeat();
    },
}
--- no_error_log
[error]
[alert]



=== TEST 5: a session MongoDB has but idle past the session timeout is 410 session_expired, and stays out of Redis
--- request eval
"POST /v1/sessions/restore-old-0001/turns\n{\"text\": \"hello\"}"
--- error_code: 410
--- json eval
{ 'error.code' => 'session_expired' }
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        Test::More::is(main::r('EXISTS',
                               DDTRedis::key('s', 'restore-old-0001')), 0,
                       "$name - Redis has no session");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 6: DELETE of a session Redis lost restores it first, so its deletion reaches MongoDB and no later turn brings it back
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"restore-dlost-0001\"}",
"POST /v1/sessions/restore-dlost-0001/turns\n{\"text\": \"one\"}",
"DELETE /v1/sessions/restore-dlost-0001",
"POST /v1/sessions/restore-dlost-0001/turns\n{\"text\": \"two\"}",
]
--- error_code eval
[201, 200, 204, 404]
--- json eval
[
 { version => 1 },
 { version => 2 },
 undef,
 { 'error.code' => 'session_not_found' },
]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        DDTRedis::wait_until('ver 2 in MongoDB', sub {
            main::mongo_ver('restore-dlost-0001') == 2;
        }, 15);
        Test::More::is(main::r('FLUSHALL'), 'OK', "$name - FLUSHALL");
        main::wait_heartbeat();
    },
    2 => sub {
        my $name = $_[0]->name;
        DDTRedis::wait_until('the deletion in MongoDB', sub {
            my $d = DDTPersister::find($main::M, 'sessions',
                                       { _id => 'restore-dlost-0001' });
            @$d && $d->[0]{deleted};
        }, 15);
        Test::More::pass("$name - MongoDB marks it deleted");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 7: critical sync off: a critical turn answers durable false without waiting, even while MongoDB is slow
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/booking.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_timeout 3s;
    ddt_persister on;
    ddt_critical_sync off;
    ddt_critical_wait 5s;
--- request eval
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-off-0001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my $slow = DDTPersister::ctl($main::M, 'delay 1500');
        my ($res, $secs, $j) = main::timed_turn('restore-off-0001',
                                                '{"text": "Mario Rossi"}');
        DDTPersister::ctl($main::M, 'delay 0');
        Test::More::is($res->{code}, 200, "$name - the turn is 200");
        Test::More::is_deeply($j->{durable}, JSON::PP::false,
                              "$name - durable false");
        Test::More::is_deeply($j->{expecting}{data}, 'birthDate',
                              "$name - the name was filled (critical)");
        SKIP: {
            Test::More::skip('a real mongod is not slowed down', 1)
                unless defined $slow;
            Test::More::cmp_ok($secs, '<', 1.0,
                               "$name - without waiting for MongoDB "
                               . sprintf('(%.3f s)', $secs));
        }
    },
}
--- no_error_log
[error]
[alert]



=== TEST 8: critical sync on and MongoDB slower than ddt_critical_wait: durable false after the wait, not later
--- request eval
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-slow-0001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        SKIP: {
            my $slow = DDTPersister::ctl($main::M, 'delay 4000');
            Test::More::skip('a real mongod is not slowed down', 4)
                unless defined $slow;
            my ($res, $secs, $j) = main::timed_turn('restore-slow-0001',
                                                    '{"text": "Mario Rossi"}');
            DDTPersister::ctl($main::M, 'delay 0');
            Test::More::is($res->{code}, 200, "$name - the turn is 200");
            Test::More::is_deeply($j->{durable}, JSON::PP::false,
                                  "$name - durable false");
            Test::More::cmp_ok($secs, '>=', 0.95,
                               "$name - after waiting ddt_critical_wait "
                               . sprintf('(%.3f s)', $secs));
            Test::More::cmp_ok($secs, '<', 3.0,
                               "$name - and not for MongoDB");
        }
        # the persister writes it in the end
        DDTRedis::wait_until('ver 2 in MongoDB', sub {
            main::mongo_ver('restore-slow-0001') >= 2;
        }, 20);
    },
}
--- no_error_log
[error]
[alert]



=== TEST 9: the worker's subscriber killed during a wait: the turn answers durable false at once (what was published meanwhile was not heard); the subscriber comes back by itself and the next critical turns are durable again
--- request eval
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-kill-0001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        SKIP: {
            my $slow = DDTPersister::ctl($main::M, 'delay 2000');
            Test::More::skip('a real mongod is not slowed down', 3)
                unless defined $slow;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => DDTTest::port())
                or die "connect: $!";
            my $t0 = Time::HiRes::time();
            print {$s} DDTTest::raw_request('POST',
                '/v1/sessions/restore-kill-0001/turns',
                '{"text": "Mario Rossi"}');
            Time::HiRes::sleep(0.2);
            my $killed = main::r('CLIENT', 'KILL', 'TYPE', 'pubsub');
            my $sel = IO::Select->new($s);
            my $buf = '';
            while (Time::HiRes::time() - $t0 < 5 && $sel->can_read(5)) {
                last unless sysread($s, $buf, 65536, length $buf);
            }
            my $secs = Time::HiRes::time() - $t0;
            DDTPersister::ctl($main::M, 'delay 0');
            my $j = DDTTest::decode(DDTTest::parse($buf)->{body});
            Test::More::ok($killed >= 1, "$name - subscriber killed ($killed)");
            Test::More::is_deeply($j->{durable}, JSON::PP::false,
                                  "$name - durable false");
            Test::More::cmp_ok($secs, '<', 0.9,
                               "$name - at once, not after ddt_critical_wait "
                               . sprintf('(%.3f s)', $secs));
        }
        # MongoDB answers at once again: the persister catches up first
        DDTRedis::wait_until('ver 2 in MongoDB', sub {
            main::mongo_ver('restore-kill-0001') >= 2;
        }, 20);
        my ($i, $ok) = (0, 0);
        my $t0 = Time::HiRes::time();
        while (!$ok && Time::HiRes::time() - $t0 < 10) {
            my $sid = sprintf 'restore-back-%04d', ++$i;
            DDTTest::http('POST', '/v1/sessions',
                          qq({"project": "booking", "sessionId": "$sid"}));
            my ($res, $secs, $j) = main::timed_turn($sid,
                                                    '{"text": "Mario Rossi"}');
            $ok = $j && $j->{durable} && $j->{durable} eq JSON::PP::true;
            Time::HiRes::sleep(0.1) unless $ok;
        }
        Test::More::ok($ok, "$name - durable true again after $i turns");
    },
}
--- no_error_log
[error]
[alert]



=== TEST 10: the persister stopped (its heartbeat gone): a critical turn answers durable false at once
--- request eval
"POST /v1/sessions\n{\"project\": \"booking\", \"sessionId\": \"restore-gone-0001\"}"
--- error_code: 201
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        DDTPersister::stop_persister($main::P);
        DDTRedis::wait_until('the heartbeat to expire', sub {
            !main::r('EXISTS', 'ddt:persister:alive');
        }, 10);
        my ($res, $secs, $j) = main::timed_turn('restore-gone-0001',
                                                '{"text": "Mario Rossi"}');
        Test::More::is($res->{code}, 200, "$name - the turn is 200");
        Test::More::is_deeply($j->{durable}, JSON::PP::false,
                              "$name - durable false");
        Test::More::cmp_ok($secs, '<', 0.9,
                           "$name - without waiting ddt_critical_wait "
                           . sprintf('(%.3f s)', $secs));
    },
}
--- no_error_log
[error]
[alert]



=== TEST 11: ddt_persister on without a Redis store stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_persister on;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_persister on needs ddt_redis/



=== TEST 12: ddt_critical_sync on without ddt_persister stops nginx at start
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_critical_sync on;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_critical_sync on needs ddt_persister on/



=== TEST 13: ddt_redis_stream_maxlen takes a positive number or off
--- http_config
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    ddt_redis_stream_maxlen 0;
--- request
GET /v1/health
--- must_die
--- error_log eval
qr/\[emerg\].*ddt_redis_stream_maxlen.*must be a positive number or "off"/

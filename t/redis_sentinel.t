# t/redis_sentinel.t: Redis Sentinel as the address (issue 5): a master, a
# replica and three sentinels on loopback; nginx finds the master through
# `ddt_redis_sentinel ... master=NAME`.  The master is killed in the middle
# of conversations: after the failover (+switch-master) the module
# reconnects to the new master and the conversations go on.  The number of
# turns that failed during the failover is reported (diag), and bounded.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;
use DDTRedis;
use Time::HiRes qw(time sleep);

no_shuffle();

our $Master = DDTRedis::start_redis();
our $Replica = DDTRedis::start_redis(
    extra => [ '--replicaof', '127.0.0.1', $Master->{port} ]);
our @Sentinels = map {
    DDTRedis::start_sentinel(name => 'ddtm', master_port => $Master->{port})
} 1 .. 3;

# wait until the replica is in sync and the sentinels know each other
DDTRedis::wait_until('replica in sync', sub {
    my $i = eval { DDTRedis::cmd($Replica->{port}, 'INFO', 'replication') } // '';
    return $i =~ /master_link_status:up/;
}, 15);
for my $s (@Sentinels) {
    DDTRedis::wait_until("sentinel :$s->{port} sees the others", sub {
        my $m = eval { DDTRedis::cmd($s->{port}, 'SENTINEL', 'master', 'ddtm') };
        return 0 unless ref $m eq 'ARRAY';
        my %m = @$m;
        return ($m{'num-other-sentinels'} // 0) == 2 && ($m{'num-slaves'} // 0) == 1;
    }, 20);
}

$ENV{TEST_NGINX_SENTINELS} = join ' ', map { "127.0.0.1:$_->{port}" } @Sentinels;

# a "sentinel" that accepts and never answers, asked first in TEST 1
our $Hole = DDTRedis::start_blackhole(DDTRedis::free_port());
$ENV{TEST_NGINX_HOLE_PORT} = $Hole->{port};

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis_sentinel $TEST_NGINX_SENTINELS master=ddtm;
    ddt_redis_timeout 500ms;
    ddt_redis_connect_timeout 500ms;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
    timeout => 40,
);

sub turn {
    my ($id, $text) = @_;
    my $r = DDTTest::http('POST', "/v1/sessions/$id/turns", "{\"text\": \"$text\"}");
    $r->{json} = DDTTest::decode($r->{body}) || {};
    return $r;
}

run_tests();

__DATA__

=== TEST 1: the first sentinel never answers: the next one is asked, and requests that came first wait for the master
--- http_config
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_redis_sentinel 127.0.0.1:$TEST_NGINX_HOLE_PORT $TEST_NGINX_SENTINELS master=ddtm;
    ddt_redis_connect_timeout 300ms;
    ddt_redis_timeout 3s;
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"sentinel-w-0001\"}",
"POST /v1/sessions/sentinel-w-0001/turns\n{\"text\": \"waited\"}",
]
--- error_code eval
[201, 200]
--- json eval
[ { version => 1 }, { version => 2, 'messages.0.text' => 'You said waited.' } ]
--- no_error_log
[alert]
[crit]
[error]




=== TEST 2: the master found through the sentinels serves conversations
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"sentinel-a-0001\"}",
"POST /v1/sessions/sentinel-a-0001/turns\n{\"text\": \"hello\"}",
"GET /v1/health",
]
--- error_code eval
[201, 200, 200]
--- json eval
[ { version => 1 }, { version => 2, durable => \0 }, { status => 'ok' } ]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        my $v = DDTRedis::cmd($main::Master->{port}, 'HGET',
                              DDTRedis::key('s', 'sentinel-a-0001'), 'ver');
        Test::More::is($v, 2, "$name - written on the master");
    },
}
--- no_error_log
[error]



=== TEST 3: the master is killed: after the failover conversations go on on the new master
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"sentinel-b-0001\"}",
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"sentinel-b-0002\"}",
"GET /v1/health",
]
--- error_code eval
[201, 201, 200]
--- after eval
{
    2 => sub {
        my $name = $_[0]->name;
        my @ids = ('sentinel-b-0001', 'sentinel-b-0002');
        my %ver = map { $_ => 1 } @ids;

        # a few turns before
        for my $i (1 .. 3) {
            for my $id (@ids) {
                my $r = main::turn($id, "pre$i");
                $ver{$id} = $r->{json}{version} if $r->{code} == 200;
            }
        }
        Test::More::is("$ver{$ids[0]} $ver{$ids[1]}", "4 4", "$name - turns before the failover");

        # wait for the last writes to reach the replica, then kill the master
        DDTRedis::wait_until('replica caught up', sub {
            my $v = eval { DDTRedis::cmd($main::Replica->{port}, 'HGET',
                                         DDTRedis::key('s', $ids[1]), 'ver') };
            return defined $v && !ref $v && $v == 4;
        }, 5);
        DDTRedis::stop($main::Master->{pid}, 'KILL');
        my $t_kill = Time::HiRes::time();

        # keep talking until both conversations succeed 5 times in a row
        my ($failed, $ok_run, $turns, $t_back) = (0, 0, 0, undef);
        my %codes;
        while (Time::HiRes::time() - $t_kill < 30) {
            for my $id (@ids) {
                my $r = main::turn($id, "during$turns");
                $turns++;
                $codes{$r->{code}}++;
                if ($r->{code} == 200) {
                    $ok_run++;
                    push @{ $main::Seen{$id} }, $r->{json}{version};
                    $ver{$id} = $r->{json}{version};
                } else {
                    $failed++;
                    $ok_run = 0;
                }
            }
            if ($ok_run >= 10) {
                $t_back //= Time::HiRes::time();
                last;
            }
            Time::HiRes::sleep(0.05);
        }
        Test::More::diag(sprintf("sentinel failover: %d of %d turns failed (%s), "
                                 . "conversations back after %.2f s",
                                 $failed, $turns,
                                 CORE::join(' ', map { "$_:$codes{$_}" } sort keys %codes),
                                 ($t_back // Time::HiRes::time()) - $t_kill));
        Test::More::ok(defined $t_back, "$name - conversations go on after the failover");
        Test::More::ok($failed < $turns, "$name - failed turns are bounded ($failed of $turns)");
        Test::More::ok(!grep({ $_ != 200 && $_ != 503 } keys %codes),
                       "$name - a turn either commits or answers 503");

        my $new = DDTRedis::cmd($main::Sentinels[0]{port}, 'SENTINEL',
                                'get-master-addr-by-name', 'ddtm');
        Test::More::is($new->[1], $main::Replica->{port}, "$name - the replica is the master now");
        for my $id (@ids) {
            my $v = DDTRedis::cmd($main::Replica->{port}, 'HGET', DDTRedis::key('s', $id), 'ver');
            Test::More::is($v, $ver{$id}, "$name - $id: the new master has the last version ($v)");
        }
        my $g = DDTTest::http('GET', '/v1/health');
        Test::More::is($g->{code}, 200, "$name - health is 200 again");
    },
}
--- no_error_log
[alert]
[crit]



=== TEST 4: a failover ordered with SENTINEL FAILOVER while both servers stay up: the pool follows +switch-master
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"sentinel-c-0001\"}",
"GET /v1/health",
]
--- error_code eval
[201, 200]
--- after eval
{
    1 => sub {
        my $name = $_[0]->name;
        # a new replica of the current master (the replica of TEST 3)
        my $m = $main::Replica;
        my $r2 = DDTRedis::start_redis(extra => [ '--replicaof', '127.0.0.1', $m->{port} ]);
        DDTRedis::wait_until('the new replica in sync', sub {
            my $i = eval { DDTRedis::cmd($r2->{port}, 'INFO', 'replication') } // '';
            return $i =~ /master_link_status:up/;
        }, 15);
        DDTRedis::wait_until('the sentinels see it', sub {
            for my $s (@main::Sentinels) {
                my $l = eval { DDTRedis::cmd($s->{port}, 'SENTINEL', 'replicas', 'ddtm') };
                return 0 unless ref $l eq 'ARRAY';
                my $ok = 0;
                for my $e (@$l) {
                    my %e = @$e;
                    $ok = 1 if ($e{port} // 0) == $r2->{port} && ($e{flags} // '') eq 'slave'
                               && ($e{'master-link-status'} // '') eq 'ok';
                }
                return 0 unless $ok;
            }
            return 1;
        }, 20);

        my $t = main::turn('sentinel-c-0001', 'before');
        Test::More::is($t->{json}{version}, 2, "$name - a turn before");

        # the deployment setting that closes the split-brain window: a
        # master without a replica refuses writes (NOREPLICAS, a 503 with
        # nothing written) instead of taking turns the failover would drop.
        # Only on the master being replaced here: the new one has no
        # replica until the old one is turned into one (about 10 s).
        DDTRedis::cmd($m->{port}, 'CONFIG', 'SET', 'min-replicas-to-write', '1');
        DDTRedis::cmd($m->{port}, 'CONFIG', 'SET', 'min-replicas-max-lag', '2');
        my $f = DDTRedis::cmd($main::Sentinels[0]{port}, 'SENTINEL', 'FAILOVER', 'ddtm');
        Test::More::is($f, 'OK', "$name - failover ordered");

        # talk until the old master has been turned into a replica (the
        # failover is over), then some more
        my $t0 = Time::HiRes::time();
        my ($failed, $turns, $switched, $prev, $lost) = (0, 0, 0, 2, 0);
        while (Time::HiRes::time() - $t0 < 30) {
            my $r = main::turn('sentinel-c-0001', "during$turns");
            $turns++;
            $failed++ unless $r->{code} == 200;
            if ($r->{code} == 200) {
                my $v = $r->{json}{version};
                # the version going back: turns the old master took after
                # the promotion, lost with it (Redis replication is async)
                $lost += $prev + 1 - $v if $v <= $prev;
                $prev = $v;
            }
            my $role = eval { DDTRedis::cmd($m->{port}, 'INFO', 'replication') } // '';
            if ($role =~ /role:slave/) { $switched = Time::HiRes::time(); last }
            Time::HiRes::sleep(0.05);
        }
        Test::More::ok($switched, "$name - the old master became a replica");
        # Not asserted: how many turns the old master took before
        # +switch-master reached nginx.  Redis replication is asynchronous
        # and min-replicas-max-lag lets the old master accept writes for up
        # to that many seconds after its replica was promoted, so on a
        # loaded machine a few are lost (0 to 15 seen); it is Redis's
        # window, reported below and documented in docs/directives.md.
        # What is ours: every turn after the switch commits on the new
        # master, checked next.
        my @after = map { main::turn('sentinel-c-0001', "after$_") } 1 .. 5;
        Test::More::is(CORE::join(' ', map { $_->{code} } @after), '200 200 200 200 200',
                       "$name - turns after the switch commit");
        my $v = $after[-1]{json}{version} // -1;
        my $ver = DDTRedis::cmd($r2->{port}, 'HGET', DDTRedis::key('s', 'sentinel-c-0001'), 'ver');
        Test::More::is($ver, $v, "$name - on the new master ($r2->{port})");
        Test::More::diag(sprintf("SENTINEL FAILOVER: %d of %d turns failed during the switch (%.2f s "
                                 . "until the old master was a replica); %d committed turns lost "
                                 . "(taken by the old master before +switch-master)",
                                 $failed, $turns, ($switched || Time::HiRes::time()) - $t0, $lost));
    },
}
--- no_error_log
[alert]
[crit]

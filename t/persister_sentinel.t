# t/persister_sentinel.t: ddt-persister behind Redis Sentinel: it asks the
# sentinels for the master (`sentinel`, `sentinel_master`), and when the
# master is killed it follows the failover to the promoted replica and goes
# on draining; every turn ends up in MongoDB once (entries that reached the
# replica are written again harmlessly).  A master, a replica and three
# sentinels on loopback, the MongoDB wire test server (or a real mongod).
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

my $Master = DDTRedis::start_redis();
my $Replica = DDTRedis::start_redis(
    extra => [ '--replicaof', '127.0.0.1', $Master->{port} ]);
my @Sentinels = map {
    DDTRedis::start_sentinel(name => 'ddtp', master_port => $Master->{port})
} 1 .. 3;
DDTRedis::wait_until('replica in sync', sub {
    my $i = eval { DDTRedis::cmd($Replica->{port}, 'INFO', 'replication') } // '';
    $i =~ /master_link_status:up/;
}, 15);
for my $s (@Sentinels) {
    DDTRedis::wait_until("sentinel :$s->{port} sees the others", sub {
        my $m = eval { DDTRedis::cmd($s->{port}, 'SENTINEL', 'master', 'ddtp') };
        return 0 unless ref $m eq 'ARRAY';
        my %m = @$m;
        ($m{'num-other-sentinels'} // 0) == 2 && ($m{'num-slaves'} // 0) == 1;
    }, 20);
}

my $M = DDTPersister::start_mongo(db => "ddt_test_sentinel_$$");
my $P = DDTPersister::start_persister(
    redis => 1, mongo => $M, consumer => 's1',
    args => { '--sentinel' => join(' ', map { "127.0.0.1:$_->{port}" } @Sentinels),
              '--sentinel-master' => 'ddtp', '--redis-timeout-ms' => 500 });

sub turns { DDTPersister::count($M, 'turns') }

my @sids = map { sprintf 'sentinel-sess-%02d', $_ } 1 .. 5;
for my $ver (1 .. 4) {
    DDTPersister::xadd($Master->{port}, $_, $ver) for @sids;
}
DDTRedis::wait_until('20 turns through the master', sub { turns() >= 20 }, 10);
pass('the master found through the sentinels is drained');
like(DDTPersister::log_text($P), qr/connected to 127\.0\.0\.1:$Master->{port} \(master from the sentinels\)/,
     'connected to the master the sentinels named');

# the master dies: wait for the sentinels to promote the replica
DDTRedis::wait_until('replica has the entries', sub {
    my $l = eval { DDTRedis::cmd($Replica->{port}, 'XLEN', 'ddt:{0}:snapshots') };
    defined $l && !ref $l && $l > 0;
}, 10);
DDTRedis::stop_redis($Master, 'KILL');
DDTRedis::wait_until('failover', sub {
    my $a = eval { DDTRedis::cmd($Sentinels[0]{port}, 'SENTINEL',
                                 'get-master-addr-by-name', 'ddtp') };
    ref $a eq 'ARRAY' && $a->[1] == $Replica->{port};
}, 30);
DDTRedis::wait_until('the replica is a master', sub {
    my $r = eval { DDTRedis::cmd($Replica->{port}, 'ROLE') };
    ref $r eq 'ARRAY' && $r->[0] eq 'master';
}, 10);

for my $ver (5 .. 8) {
    DDTPersister::xadd($Replica->{port}, $_, $ver) for @sids;
}
DDTRedis::wait_until('40 turns after the failover', sub { turns() >= 40 }, 20);

my %got;
push @{ $got{ $_->{sid} } }, $_->{ver} for @{ DDTPersister::find($M, 'turns') };
is_deeply({ map { $_ => join(' ', sort { $a <=> $b } @{ $got{$_} }) } @sids },
          { map { $_ => '1 2 3 4 5 6 7 8' } @sids },
          'after the failover every turn is in MongoDB once');
like(DDTPersister::log_text($P),
     qr/connected to 127\.0\.0\.1:$Replica->{port} \(master from the sentinels\)/,
     'the persister connected to the promoted replica');
DDTRedis::wait_until('nothing pending on the new master', sub {
    my $x = DDTRedis::cmd($Replica->{port}, 'XPENDING', 'ddt:{0}:snapshots',
                          'ddt-persister');
    ref $x eq 'ARRAY' && $x->[0] == 0;
}, 10);
pass('and acknowledged everything there');

DDTPersister::stop_persister($P);
done_testing();

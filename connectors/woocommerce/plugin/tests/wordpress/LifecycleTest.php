<?php
/**
 * The plugin's life in a real WordPress, in order: activation, settings saved by a shop
 * manager over HTTP, the connection test and cabinet link, an abandoned cart with and without
 * consent, 100 events through a relay answering 503, bad set-ups, privacy requests, the page,
 * deactivation and uninstall. Each test runs in its own PHP process (a new "request"), on the
 * same database.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

/**
 * An order stand-in for Relay_SMS_Carts::order_placed().
 */
final class Relay_SMS_Test_Order {
	/**
	 * Meta.
	 *
	 * @var array
	 */
	public $meta = array();
	/**
	 * Id.
	 *
	 * @var int
	 */
	public $id;
	/**
	 * Constructor.
	 *
	 * @param int    $id      Order id.
	 * @param string $cart_id Cart id.
	 */
	public function __construct( $id, $cart_id ) {
		$this->id                     = $id;
		$this->meta['_relay_sms_cart_id'] = $cart_id;
	}
	/**
	 * Meta.
	 *
	 * @param string $key Key.
	 * @return mixed
	 */
	public function get_meta( $key ) {
		return isset( $this->meta[ $key ] ) ? $this->meta[ $key ] : '';
	}
	/**
	 * Id.
	 *
	 * @return int
	 */
	public function get_id() {
		return $this->id;
	}
	/**
	 * E-mail.
	 *
	 * @return string
	 */
	public function get_billing_email() {
		return 'anna@example.by';
	}
}

/**
 * @runTestsInSeparateProcesses
 * @preserveGlobalState disabled
 */
final class LifecycleTest extends TestCase {

	const PLUGIN = 'relay-sms/relay-sms.php';
	const KEY    = 'rk_test_key';

	// ---- helpers ------------------------------------------------------------------------

	private static function relay( $path, $body = null ) {
		$ch = curl_init( getenv( 'RELAY_SMS_RELAY_URL' ) . $path );
		curl_setopt( $ch, CURLOPT_RETURNTRANSFER, true );
		if ( null !== $body ) {
			curl_setopt( $ch, CURLOPT_POST, true );
			curl_setopt( $ch, CURLOPT_POSTFIELDS, json_encode( $body ) );
		}
		$out = curl_exec( $ch );
		curl_close( $ch );
		return json_decode( (string) $out, true );
	}

	/** Requests the stand-in relay received for `path`, optionally only those with `status`. */
	private static function received( $path = '/v1/events', $status = null ) {
		return array_values(
			array_filter(
				self::relay( '/_received' ),
				function ( $r ) use ( $path, $status ) {
					return $r['path'] === $path && ( null === $status || $r['status'] === $status );
				}
			)
		);
	}

	/** One HTTP request to the site as `user` (cookies kept per user); [status, headers, body]. */
	private static function http( $user, $path, $post = null ) {
		$jar = getenv( 'RELAY_SMS_WORK' ) . '/cookies-' . $user;
		$ch  = curl_init( getenv( 'RELAY_SMS_WP_URL' ) . $path );
		curl_setopt_array(
			$ch,
			array(
				CURLOPT_RETURNTRANSFER => true,
				CURLOPT_HEADER         => true,
				CURLOPT_COOKIEJAR      => $jar,
				CURLOPT_COOKIEFILE     => $jar,
				CURLOPT_FOLLOWLOCATION => false,
				CURLOPT_TIMEOUT        => 60,
			)
		);
		if ( null !== $post ) {
			curl_setopt( $ch, CURLOPT_POST, true );
			curl_setopt( $ch, CURLOPT_POSTFIELDS, http_build_query( $post ) );
		}
		$out    = (string) curl_exec( $ch );
		$status = (int) curl_getinfo( $ch, CURLINFO_RESPONSE_CODE );
		$split  = (int) curl_getinfo( $ch, CURLINFO_HEADER_SIZE );
		curl_close( $ch );
		return array( $status, substr( $out, 0, $split ), substr( $out, $split ) );
	}

	private static function login( $user, $password ) {
		file_put_contents( getenv( 'RELAY_SMS_WORK' ) . '/cookies-' . $user, "127.0.0.1\tFALSE\t/\tFALSE\t0\twordpress_test_cookie\tWP%20Cookie%20check\n" );
		list( $status, $headers ) = self::http( $user, '/wp-login.php', array( 'log' => $user, 'pwd' => $password, 'testcookie' => '1', 'redirect_to' => '/wp-admin/' ) );
		self::assertSame( 302, $status, "login as $user" );
		self::assertStringContainsString( 'wordpress_logged_in_', $headers );
	}

	private static function nonce( $html, $action_field ) {
		self::assertSame( 1, preg_match( '/<input type="hidden" name="action" value="' . preg_quote( $action_field, '/' ) . '" \/><input type="hidden" id="_wpnonce" name="_wpnonce" value="([0-9a-f]+)"/', $html, $m ), "nonce for $action_field" );
		return $m[1];
	}

	private static function settings_page( $user ) {
		list( $status, , $html ) = self::http( $user, '/wp-admin/admin.php?page=relay-sms' );
		self::assertSame( 200, $status );
		return $html;
	}

	/** Two queue runs at `$at` seconds from now: a sweep, then the sends it queued. */
	private static function run_actions( $at ) {
		return relay_sms_test_run_actions( time() + $at ) + relay_sms_test_run_actions( time() + $at );
	}

	private static function queue_rows( $where = '1=1' ) {
		global $wpdb;
		return $wpdb->get_results( 'SELECT * FROM ' . Relay_SMS_Queue::table() . " WHERE $where ORDER BY id", ARRAY_A );
	}

	private static function builder() {
		return new Relay_SMS_Event_Builder( home_url( '/' ) );
	}

	// ---- the life -----------------------------------------------------------------------

	public function test_01_activation_creates_the_tables_and_schedules_the_jobs() {
		global $wpdb;
		$this->assertFalse( is_plugin_active( self::PLUGIN ) );
		$this->assertFalse( as_next_scheduled_action( 'relay_sms_cart_sweep' ) );
		$this->assertNull( activate_plugin( self::PLUGIN ), 'activated without errors or output' );
		$this->assertTrue( is_plugin_active( self::PLUGIN ) );
		foreach ( array( 'relay_sms_carts', 'relay_sms_queue' ) as $table ) {
			$this->assertSame( $wpdb->prefix . $table, $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->prefix . $table ) ) );
		}
		$next = as_next_scheduled_action( 'relay_sms_cart_sweep', array(), 'relay-sms' );
		$this->assertIsInt( $next, 'the cart sweep is an Action Scheduler action from activation on' );
		$this->assertGreaterThan( time(), $next );
		$this->assertFalse( wp_next_scheduled( 'relay_sms_cart_sweep' ), 'no WP-Cron duplicate when Action Scheduler is there' );
		$this->assertSame( '2', get_option( 'relay_sms_db_version' ) );
	}

	public function test_02_the_sweep_comes_back_on_init_when_it_went_missing() {
		as_unschedule_all_actions( 'relay_sms_cart_sweep' );
		$this->assertFalse( as_next_scheduled_action( 'relay_sms_cart_sweep' ) );
		Relay_SMS_Jobs::ensure(); // what every `init` runs
		$this->assertIsInt( as_next_scheduled_action( 'relay_sms_cart_sweep', array(), 'relay-sms' ) );
		$this->assertSame( 20, has_action( 'init', array( 'Relay_SMS_Jobs', 'ensure' ) ), 're-created on every init' );
	}

	public function test_03_a_shop_manager_sees_the_notice_and_saves_the_settings_https_only() {
		global $wpdb;
		self::relay( '/_reset', array() );
		self::login( 'manager', 'manager-password' );
		list( , , $dashboard ) = self::http( 'manager', '/wp-admin/index.php' );
		$this->assertStringContainsString( 'Relay SMS is not connected yet', $dashboard );

		$html  = self::settings_page( 'manager' );
		$nonce = self::nonce( $html, 'update' );
		$form  = array(
			'option_page'      => 'relay-sms',
			'action'           => 'update',
			'_wpnonce'         => $nonce,
			'_wp_http_referer' => '/wp-admin/admin.php?page=relay-sms',
		);
		list( $status ) = self::http( 'manager', '/wp-admin/options.php', $form + array( 'relay_sms_settings' => array( 'relay_url' => 'http://relay.example', 'api_key' => '', 'cart_delay' => '5', 'cart_mode' => 'consent', 'consent_wording' => '' ) ) );
		$this->assertSame( 302, $status, 'a shop manager may save (options.php answers 302, not 403)' );
		list( , , $page ) = self::http( 'manager', '/wp-admin/admin.php?page=relay-sms&settings-updated=true' );
		$this->assertStringContainsString( 'The relay URL must start with https://', $page );
		wp_cache_flush();
		$this->assertSame( '', Relay_SMS_Settings::get()['relay_url'], 'plain http to another host is refused' );

		list( $status ) = self::http( 'manager', '/wp-admin/options.php', $form + array( 'relay_sms_settings' => array( 'relay_url' => getenv( 'RELAY_SMS_RELAY_URL' ) . '/', 'api_key' => ' ' . self::KEY . ' ', 'cart_delay' => '5', 'cart_mode' => 'consent', 'consent_wording' => "Да,\n присылайте SMS <b>о скидках</b>. Отказ: STOP" ) ) );
		$this->assertSame( 302, $status );
		wp_cache_flush();
		$settings = Relay_SMS_Settings::get();
		$this->assertSame( getenv( 'RELAY_SMS_RELAY_URL' ), $settings['relay_url'], 'loopback http is the local-development exception' );
		$this->assertSame( 5, $settings['cart_delay'] );
		$this->assertSame( 'Да, присылайте SMS о скидках. Отказ: STOP', $settings['consent_wording'] );
		$this->assertArrayNotHasKey( 'api_key', get_option( 'relay_sms_settings' ), 'the key is not in the settings option' );
		$this->assertSame( self::KEY, Relay_SMS_Settings::api_key() );
		$this->assertSame( 'no', $wpdb->get_var( $wpdb->prepare( "SELECT autoload FROM {$wpdb->options} WHERE option_name = %s", 'relay_sms_api_key' ) ), 'the key is not autoloaded' );

		$html = self::settings_page( 'manager' );
		$this->assertStringNotContainsString( self::KEY, $html, 'the key is never printed' );
		$this->assertStringContainsString( 'Remove the saved key', $html );
		list( , , $dashboard ) = self::http( 'manager', '/wp-admin/index.php' );
		$this->assertStringNotContainsString( 'Relay SMS is not connected yet', $dashboard );
	}

	public function test_04_test_connection_names_the_tenant_or_the_exact_error_and_the_cabinet_link() {
		self::login( 'manager', 'manager-password' );
		$html            = self::settings_page( 'manager' );
		list( $status, $headers ) = self::http( 'manager', '/wp-admin/admin-post.php', array( 'action' => 'relay_sms_test_connection', '_wpnonce' => self::nonce( $html, 'relay_sms_test_connection' ) ) );
		$this->assertSame( 302, $status );
		$page = self::settings_page( 'manager' );
		$this->assertStringContainsString( 'Connected: this key belongs to the relay tenant &quot;Чайная лавка&quot; (id 7b8b3abe, region BY).', $page, 'the tenant name, its HTML removed' );
		$this->assertSame( array( 'Bearer ' . self::KEY ), array_column( self::received( '/v1/account' ), 'authorization' ) );

		self::relay( '/_control', array( 'key' => 'rk_other' ) );
		self::http( 'manager', '/wp-admin/admin-post.php', array( 'action' => 'relay_sms_test_connection', '_wpnonce' => self::nonce( $page, 'relay_sms_test_connection' ) ) );
		$page = self::settings_page( 'manager' );
		$this->assertStringContainsString( 'Connection failed: 401 invalid_api_key: the API key is unknown or revoked', $page );
		self::relay( '/_control', array( 'key' => self::KEY ) );

		// No cabinet at this relay (404): the link is hidden.
		$this->assertStringContainsString( 'Open the relay cabinet', $page );
		list( $status ) = self::http( 'manager', '/wp-admin/admin-post.php', array( 'action' => 'relay_sms_cabinet', '_wpnonce' => self::nonce( $page, 'relay_sms_cabinet' ) ) );
		$this->assertSame( 302, $status );
		$page = self::settings_page( 'manager' );
		$this->assertStringContainsString( 'This relay has no web cabinet; the link is hidden.', $page );
		$this->assertStringNotContainsString( 'Open the relay cabinet', $page );

		// The cabinet appears; a passing connection test shows the link again; it signs in.
		self::relay( '/_control', array( 'cabinet' => true ) );
		self::http( 'manager', '/wp-admin/admin-post.php', array( 'action' => 'relay_sms_test_connection', '_wpnonce' => self::nonce( $page, 'relay_sms_test_connection' ) ) );
		$page = self::settings_page( 'manager' );
		list( $status, $headers ) = self::http( 'manager', '/wp-admin/admin-post.php', array( 'action' => 'relay_sms_cabinet', '_wpnonce' => self::nonce( $page, 'relay_sms_cabinet' ) ) );
		$this->assertSame( 302, $status );
		$this->assertStringContainsString( 'Location: ' . getenv( 'RELAY_SMS_RELAY_URL' ) . '/cabinet/sso?token=one-time', $headers );
		$this->assertSame( 'Bearer ' . self::KEY, self::received( '/v1/cabinet/links', 201 )[0]['authorization'] );

	}

	public function test_05_an_abandoned_cart_with_consent_is_reported_once_after_the_delay_and_one_without_never() {
		global $wpdb;
		self::relay( '/_reset', array() );
		$this->assertIsInt( as_next_scheduled_action( 'relay_sms_cart_sweep', array(), 'relay-sms' ) );

		// A customer who ticked the box, with HTML in the name and a product name.
		WC()->session = new Relay_SMS_Test_Session();
		WC()->cart    = new Relay_SMS_Test_Cart();
		WC()->cart->add_to_cart( 11, 2, 0, array(), 12.5, '<script>alert(1)</script>Чай' );
		Relay_SMS_Carts::capture( '+375 29 123-45-67', '<b>Анна</b> <img src=x onerror=alert(1)>', 'Anna@Example.by', true );
		$with = Relay_SMS_Carts::session_cart_id( false );

		// A customer who did not tick it: nothing of theirs is kept.
		WC()->session = new Relay_SMS_Test_Session();
		WC()->cart    = new Relay_SMS_Test_Cart();
		WC()->cart->add_to_cart( 12, 1 );
		Relay_SMS_Carts::capture( '+375 33 765-43-21', 'Борис', 'boris@example.by', false );

		$rows = $wpdb->get_results( 'SELECT * FROM ' . Relay_SMS_Carts::table(), ARRAY_A );
		$this->assertCount( 1, $rows );
		$this->assertSame( $with, $rows[0]['cart_id'] );
		$this->assertSame( 'Анна', $rows[0]['name'] );
		$this->assertSame( '1', $rows[0]['consent'] );
		$this->assertSame( hash( 'sha256', 'anna@example.by' ), $rows[0]['email_hash'] );
		$this->assertArrayNotHasKey( 'email', $rows[0] );
		$this->assertStringNotContainsString( '765', serialize( $rows ) );

		// Not due yet: sweeps run, nothing is reported.
		self::run_actions( 301 );
		$this->assertSame( array(), self::received() );

		// Five minutes without a change (the cart is moved back in time), then the sweep.
		$wpdb->query( 'UPDATE ' . Relay_SMS_Carts::table() . ' SET updated_at = updated_at - 301' );
		self::run_actions( 700 );
		$got = self::received();
		$this->assertCount( 1, $got, 'exactly one request' );
		$this->assertSame( 202, $got[0]['status'] );
		$this->assertSame( 'cart.abandoned', $got[0]['type'] );
		$this->assertSame( 'Bearer ' . self::KEY, $got[0]['authorization'] );
		$this->assertSame( 'application/json', $got[0]['content_type'] );
		$this->assertStringStartsWith( 'relay-sms/1.1.0; ' . home_url( '/' ), $got[0]['user_agent'] );
		$event = json_decode( $got[0]['body'], true );
		$this->assertSame( array( 'phone' => '+375 29 123-45-67', 'name' => 'Анна' ), $event['customer'] );
		$this->assertSame( array( array( 'name' => 'alert(1)Чай', 'quantity' => 2 ) ), $event['data']['items'] );
		$this->assertSame( '25.00', $event['cart']['total'] );
		$this->assertSame( array( 'platform' => 'woocommerce', 'account' => home_url( '/' ) ), $event['source'] );

		// More sweeps: still one.
		self::run_actions( 1400 );
		self::run_actions( 3000 );
		$this->assertCount( 1, self::received() );

		// The link restores the cart until the order is placed; then it is refused.
		parse_str( (string) parse_url( $event['cart']['url'], PHP_URL_QUERY ), $q );
		$this->assertSame( $with, $q['relay-sms-cart'] );
		$this->assertEqualsWithDelta( time() + 7 * DAY_IN_SECONDS, (int) $q['relay-sms-exp'], 120, 'expires in 7 days' );
		$this->assertSame( 'ok', Relay_SMS_Carts::link_status( $q['relay-sms-cart'], $q['relay-sms-exp'], $q['relay-sms-key'] ) );
		$this->assertSame( 'invalid', Relay_SMS_Carts::link_status( $q['relay-sms-cart'], (string) ( $q['relay-sms-exp'] + 86400 ), $q['relay-sms-key'] ) );
		Relay_SMS_Carts::order_placed( new Relay_SMS_Test_Order( 727, $with ) );
		$this->assertSame( 'ordered', Relay_SMS_Carts::link_status( $q['relay-sms-cart'], $q['relay-sms-exp'], $q['relay-sms-key'] ) );
		self::run_actions( 3100 );
		$this->assertSame( array( 'cart.abandoned', 'cart.recovered' ), array_column( self::received( '/v1/events', null ), 'type' ) );
	}

	public function test_06_a_hundred_events_queued_while_the_relay_answers_503_all_arrive_once() {
		self::relay( '/_reset', array() );
		self::relay( '/_control', array( 'mode' => '503' ) );
		$ids = array();
		for ( $i = 1; $i <= 100; $i++ ) {
			$event = self::builder()->consent( true, '+375 29 100-00-' . sprintf( '%02d', $i % 100 ), 'Да, присылайте SMS', '203.0.113.7', 'UA', time(), (string) ( 1000 + $i ) );
			$this->assertNotNull( Relay_SMS_Queue::enqueue( $event, "c$i@example.by" ) );
			$ids[] = $event['event_id'];
		}
		$this->assertSame( 100, count( array_unique( $ids ) ) );
		self::run_actions( 0 );
		$this->assertCount( 100, self::received( '/v1/events', 503 ) );
		$this->assertCount( 100, self::queue_rows( "status = 'queued'" ) );
		$health = get_option( 'relay_sms_health' );
		$this->assertFalse( $health['ok'] );
		$this->assertSame( 503, $health['code'] );

		wp_set_current_user( 1 );
		ob_start();
		Relay_SMS_Admin::notices();
		$notice = ob_get_clean();
		$this->assertStringContainsString( 'Relay SMS cannot deliver events to the relay.', $notice );
		$this->assertStringContainsString( '100 events are kept and retried automatically; nothing is lost.', $notice );
		$this->assertStringContainsString( '503 unavailable: the relay is restarting', $notice );

		// Backoff: nothing is retried within the first minute.
		self::run_actions( 30 );
		$this->assertCount( 100, self::received() );

		// The relay comes back: every event arrives exactly once.
		self::relay( '/_control', array( 'mode' => 'ok' ) );
		self::run_actions( 7200 );
		$accepted = self::received( '/v1/events', 202 );
		$this->assertCount( 100, $accepted );
		$this->assertSame( $ids, array_column( $accepted, 'event_id' ) );
		$this->assertCount( 0, self::received( '/v1/events', 200 ), 'no event was posted again after it was accepted' );
		$this->assertCount( 0, self::queue_rows( "status = 'queued'" ) );
		$this->assertTrue( get_option( 'relay_sms_health' )['ok'] );
		ob_start();
		Relay_SMS_Admin::notices();
		$this->assertSame( '', ob_get_clean() );
	}

	public function test_07_wrong_key_wrong_url_relay_down_lose_nothing_and_only_an_invalid_event_is_discarded() {
		global $wpdb;
		self::relay( '/_reset', array() );
		$event = self::builder()->consent( false, '+375 29 200-00-01', 'w', '', '', time(), '2001' );
		$id    = Relay_SMS_Queue::enqueue( $event );

		// A wrong key: 401, kept, the notice says the key was refused.
		self::relay( '/_control', array( 'key' => 'rk_rotated' ) );
		self::run_actions( 0 );
		$row = Relay_SMS_Queue::row( $id );
		$this->assertSame( array( 'queued', '401' ), array( $row['status'], $row['last_code'] ) );
		wp_set_current_user( 1 );
		ob_start();
		Relay_SMS_Admin::notices();
		$this->assertStringContainsString( 'The relay refused the Relay SMS API key.', ob_get_clean() );

		// The relay is down (nothing listens): kept.
		$settings = get_option( 'relay_sms_settings' );
		$closed   = 'http://127.0.0.1:9';
		update_option( 'relay_sms_settings', array( 'relay_url' => $closed ) + $settings );
		self::run_actions( 7200 );
		$row = Relay_SMS_Queue::row( $id );
		$this->assertSame( 'queued', $row['status'] );
		$this->assertNull( $row['last_code'] );
		$this->assertStringContainsString( 'The relay could not be reached', $row['last_error'] );

		// A wrong URL that answers (the shop itself): not the relay's acknowledgement, kept.
		update_option( 'relay_sms_settings', array( 'relay_url' => home_url() ) + $settings );
		self::run_actions( 14400 );
		$row = Relay_SMS_Queue::row( $id );
		$this->assertSame( 'queued', $row['status'] );
		$this->assertNotNull( $row['last_code'] );

		// Fixed: saving the settings retries at once; it arrives.
		self::relay( '/_control', array( 'key' => self::KEY ) );
		update_option( 'relay_sms_settings', $settings );
		self::run_actions( 0 );
		$this->assertSame( 'sent', Relay_SMS_Queue::row( $id )['status'] );
		$this->assertSame( '', Relay_SMS_Queue::row( $id )['body'], 'a delivered event is not kept' );

		// An event the relay calls invalid (422) is the only kind dropped, with the reason logged.
		$GLOBALS['relay_sms_test_log'] = array();
		$bad                           = array( 'type' => 'cart.abandoned', 'cart' => array( 'id' => 'x' ) ) + self::builder()->consent( true, '+375 29 200-00-02', 'w', '', '', time(), '2002' );
		$bad['event_id']               = 'woo-bad-event';
		unset( $bad['customer'] );
		$bad_id = Relay_SMS_Queue::enqueue( $bad );
		self::run_actions( 0 );
		$row = Relay_SMS_Queue::row( $bad_id );
		$this->assertSame( array( 'discarded', '422' ), array( $row['status'], $row['last_code'] ) );
		$this->assertStringContainsString( 'validation_error', $row['last_error'] );
		$this->assertStringContainsString( 'relay refused event woo-bad-event for good (422)', $GLOBALS['relay_sms_test_log'][0][1] );

		// A 10 MB cart: kept small, reported, accepted.
		$wpdb->query( 'DELETE FROM ' . Relay_SMS_Carts::table() );
		WC()->session = new Relay_SMS_Test_Session();
		WC()->cart    = new Relay_SMS_Test_Cart();
		for ( $i = 0; $i < 1000; $i++ ) {
			WC()->cart->add_to_cart( 100 + $i, 1, 7, array( 'attribute_pa_note' => str_repeat( 'ж', 5000 ) ), 1.0, str_repeat( 'Чай ', 2500 ) );
		}
		Relay_SMS_Carts::capture( '+375 29 300-00-01', str_repeat( 'Анна', 1000 ), 'big@example.by', true );
		$row = $wpdb->get_row( 'SELECT * FROM ' . Relay_SMS_Carts::table(), ARRAY_A );
		$this->assertLessThan( 64 * 1024, strlen( $row['contents'] ) + strlen( $row['items'] ) );
		$wpdb->query( 'UPDATE ' . Relay_SMS_Carts::table() . ' SET updated_at = updated_at - 400' );
		self::relay( '/_reset', array() );
		self::run_actions( 20000 );
		$got = self::received( '/v1/events', 202 );
		$this->assertCount( 1, $got );
		$this->assertLessThan( 16 * 1024, strlen( $got[0]['body'] ) );
	}

	public function test_08_privacy_exporter_eraser_and_policy_text() {
		global $wpdb;
		$user = wp_insert_user( array( 'user_login' => 'anna', 'user_pass' => 'x-password', 'user_email' => 'anna@example.by', 'role' => 'subscriber' ) );
		$this->assertIsInt( $user );
		update_user_meta( $user, 'billing_phone', '80291234567' );
		update_user_meta( $user, 'relay_sms_marketing_consent', 'yes' );
		WC()->session = new Relay_SMS_Test_Session();
		WC()->cart    = new Relay_SMS_Test_Cart();
		WC()->cart->add_to_cart( 11, 1 );
		Relay_SMS_Carts::capture( '+375 29 123-45-67', 'Анна', 'anna@example.by', true );
		$exporters = apply_filters( 'wp_privacy_personal_data_exporters', array() );
		$erasers   = apply_filters( 'wp_privacy_personal_data_erasers', array() );
		$this->assertArrayHasKey( 'relay-sms', $exporters );
		$this->assertArrayHasKey( 'relay-sms', $erasers );
		$export = call_user_func( $exporters['relay-sms']['callback'], 'anna@example.by', 1 );
		$groups = array_count_values( array_column( $export['data'], 'group_id' ) );
		$this->assertSame( 1, $groups['relay-sms-carts'] );
		$this->assertSame( 2, $groups['relay-sms-events'], 'cart.abandoned and cart.recovered' );
		$this->assertSame( 1, $groups['relay-sms-consent'] );

		$erased = call_user_func( $erasers['relay-sms']['callback'], 'anna@example.by', 1 );
		$this->assertTrue( $erased['items_removed'] );
		$this->assertFalse( $erased['items_retained'] );
		$this->assertSame( array(), call_user_func( $exporters['relay-sms']['callback'], 'anna@example.by', 1 )['data'] );
		$this->assertSame( '', get_user_meta( $user, 'relay_sms_marketing_consent', true ) );

		// An event still waiting for the relay is retained and said so.
		self::relay( '/_control', array( 'mode' => '503' ) );
		Relay_SMS_Queue::enqueue( self::builder()->consent( false, '+375 29 123-45-67', 'w', '', '', time(), '3001' ), 'anna@example.by' );
		$erased = call_user_func( $erasers['relay-sms']['callback'], 'anna@example.by', 1 );
		$this->assertTrue( $erased['items_retained'] );
		$this->assertStringContainsString( 'has not received yet', $erased['messages'][0] );
		self::relay( '/_control', array( 'mode' => 'ok' ) );
		self::run_actions( 7200 );
		$this->assertCount( 0, self::queue_rows( "status = 'queued'" ) );

		// The suggested policy text, added on admin_init in wp-admin (the policy guide page of
		// WordPress 6.1 itself logs PHP 8.2 deprecations, so it is not fetched).
		require_once ABSPATH . 'wp-admin/includes/class-wp-privacy-policy-content.php';
		set_current_screen( 'options-privacy' );
		$GLOBALS['wp_actions']['admin_init'] = 1;
		Relay_SMS_Privacy::policy();
		$policies = WP_Privacy_Policy_Content::get_suggested_policy_text();
		$this->assertSame( array( 'Relay SMS' ), array_column( $policies, 'plugin_name' ) );
		$this->assertStringContainsString( 'we send your phone number, the exact wording you agreed to', $policies[0]['policy_text'] );
	}

	public function test_09_the_settings_page_renders_with_the_deliveries_for_the_screenshot() {
		self::login( 'admin', 'admin-password' );
		$html = self::settings_page( 'admin' );
		$this->assertStringContainsString( 'Last deliveries to the relay', $html );
		$this->assertSame( 20, substr_count( $html, '<tr><td>' ), 'the last 20 deliveries' );
		$this->assertStringContainsString( 'refused as invalid', $html );
		$this->assertStringContainsString( 'Test connection', $html );
		$this->assertStringNotContainsString( '<script>alert', $html );
		$base = '<base href="' . getenv( 'RELAY_SMS_WP_URL' ) . '/wp-admin/">';
		file_put_contents( getenv( 'RELAY_SMS_WORK' ) . '/settings-page.html', preg_replace( '/<head>/', '<head>' . $base, $html, 1 ) );
	}

	public function test_10_deactivation_unschedules_every_job_and_keeps_the_queue() {
		global $wpdb;
		self::relay( '/_control', array( 'mode' => '503' ) );
		$id = Relay_SMS_Queue::enqueue( self::builder()->consent( false, '+375 29 400-00-01', 'w', '', '', time(), '4001' ) );
		self::run_actions( 0 );
		$this->assertIsInt( as_next_scheduled_action( 'relay_sms_send_event', array( $id ), 'relay-sms' ) );
		deactivate_plugins( self::PLUGIN );
		$this->assertFalse( is_plugin_active( self::PLUGIN ) );
		$this->assertFalse( as_next_scheduled_action( 'relay_sms_cart_sweep' ) );
		$this->assertFalse( as_next_scheduled_action( 'relay_sms_send_event' ) );
		$this->assertSame( 'queued', Relay_SMS_Queue::row( $id )['status'], 'the event waits for the next activation' );
		self::relay( '/_control', array( 'mode' => 'ok' ) );
	}

	public function test_11_reactivation_gives_queued_events_their_actions_back() {
		$this->assertNull( activate_plugin( self::PLUGIN ) );
		$this->assertIsInt( as_next_scheduled_action( 'relay_sms_cart_sweep', array(), 'relay-sms' ) );
		$queued = self::queue_rows( "status = 'queued'" );
		$this->assertCount( 1, $queued );
		$this->assertNotFalse( as_next_scheduled_action( 'relay_sms_send_event', array( (int) $queued[0]['id'] ), 'relay-sms' ) );
		self::run_actions( 0 );
		$this->assertCount( 0, self::queue_rows( "status = 'queued'" ) );
		deactivate_plugins( self::PLUGIN );
	}

	public function test_12_uninstall_leaves_no_options_tables_actions_or_cron_events() {
		global $wpdb;
		$this->assertFalse( is_plugin_active( self::PLUGIN ) );
		set_transient( 'relay_sms_result_1', array( 'success', 'x' ), 300 );
		$this->assertTrue( is_uninstallable_plugin( self::PLUGIN ) );
		uninstall_plugin( self::PLUGIN );
		wp_cache_flush();
		$this->assertSame( array(), $wpdb->get_col( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE '%relay\\_sms%'" ) );
		$this->assertSame( array(), $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $wpdb->prefix . 'relay_sms' ) . '%' ) ) );
		$this->assertSame( '0', $wpdb->get_var( 'SELECT COUNT(*) FROM ' . relay_sms_test_actions_table() . " WHERE hook LIKE 'relay\\_sms%' AND status IN ('pending', 'running')" ) );
		$this->assertStringNotContainsString( 'relay_sms', serialize( _get_cron_array() ) );
		$this->assertSame( '0', $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->usermeta} WHERE meta_key LIKE 'relay\\_sms%'" ) );
	}
}

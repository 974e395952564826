<?php
/**
 * PHPUnit bootstrap: only the pure classes, no WordPress.
 *
 * @package RelaySms
 */

$includes = dirname( __DIR__ ) . '/relay-sms/includes/';
require_once $includes . 'class-relay-sms-event-builder.php';
require_once $includes . 'class-relay-sms-consent.php';
require_once $includes . 'class-relay-sms-abandonment.php';

// the cabinet's class guards on ABSPATH like every plugin file; its pure helper needs nothing
defined( 'ABSPATH' ) || define( 'ABSPATH', __DIR__ . '/' );
require_once $includes . 'class-relay-sms-cabinet.php';

/**
 * The fixed inputs the fixtures were made from (shared by FixturesTest and make-fixtures.php).
 */
final class Relay_SMS_Fixture_Inputs {

	const STORE = 'https://shop.example.by/';
	const SALT  = 'test-salt';

	/**
	 * Every fixture: name → the event the builder makes.
	 *
	 * @return array
	 */
	public static function events() {
		$builder = new Relay_SMS_Event_Builder( self::STORE );
		$cart    = array(
			'cart_id'    => 'c-91',
			'phone'      => '+375 29 123-45-67',
			'name'       => 'Анна',
			'email'      => 'anna@example.by',
			'total'      => '54.0000',
			'currency'   => 'byn',
			'items'      => array( array( 'name' => 'Woo Single #1', 'quantity' => 2 ) ),
			'status'     => 'open',
			'updated_at' => 1768474200,
		);
		$url     = Relay_SMS_Abandonment::recovery_url( self::STORE, 'c-91', self::SALT );
		return array(
			'consent_granted' => $builder->consent( true, '+375 29 123-45-67', Relay_SMS_Consent::DEFAULT_WORDING, '203.0.113.7', 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0', 1768477802, '727' ),
			'consent_revoked' => $builder->consent( false, '+375 29 123-45-67', Relay_SMS_Consent::DEFAULT_WORDING, '', '', 1768479000, '731' ),
			'cart_abandoned'  => $builder->cart_abandoned( $cart, 60, $url ),
			'cart_recovered'  => $builder->cart_recovered( $cart, '727', 1768479000 ),
		);
	}
}

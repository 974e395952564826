<?php
/**
 * Relay_SMS_Abandonment: when a cart is reported, what an order does to it.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class AbandonmentTest extends TestCase {

	private function cart( $changes = array() ) {
		return array_merge(
			array( 'cart_id' => 'c-1', 'status' => 'open', 'phone' => '+375291234567', 'items' => array( array( 'name' => 'Чай', 'quantity' => 1 ) ), 'updated_at' => 1000 ),
			$changes
		);
	}

	public function test_only_carts_left_for_the_whole_delay_are_due() {
		$now   = 1000 + 60 * 60;
		$carts = array(
			$this->cart(),
			$this->cart( array( 'cart_id' => 'c-2', 'updated_at' => 1001 ) ),
			$this->cart( array( 'cart_id' => 'c-3', 'phone' => '12-34' ) ),
			$this->cart( array( 'cart_id' => 'c-4', 'items' => array() ) ),
			$this->cart( array( 'cart_id' => 'c-5', 'status' => 'reported' ) ),
			$this->cart( array( 'cart_id' => 'c-6', 'status' => 'converted' ) ),
		);
		$due = Relay_SMS_Abandonment::due( $carts, $now, 60 );
		$this->assertSame( array( 'c-1' ), array_column( $due, 'cart_id' ) );
	}

	public function test_order_within_the_delay_converts_the_cart_and_nothing_is_ever_reported() {
		$cart           = $this->cart();
		$cart['status'] = Relay_SMS_Abandonment::on_order( $cart['status'] );
		$this->assertSame( 'converted', $cart['status'] );
		$this->assertSame( array(), Relay_SMS_Abandonment::due( array( $cart ), 1000 + 86400, 60 ) );
	}

	public function test_order_after_the_report_recovers_the_cart() {
		$this->assertSame( 'recovered', Relay_SMS_Abandonment::on_order( 'reported' ) );
	}

	public function test_delay_setting_is_clamped() {
		$this->assertSame( 60, Relay_SMS_Abandonment::delay_minutes( 'abc' ) );
		$this->assertSame( 5, Relay_SMS_Abandonment::delay_minutes( 1 ) );
		$this->assertSame( 10080, Relay_SMS_Abandonment::delay_minutes( 999999 ) );
		$this->assertSame( 45, Relay_SMS_Abandonment::delay_minutes( '45' ) );
	}

	public function test_recovery_link_is_signed_and_expires() {
		$url = Relay_SMS_Abandonment::recovery_url( 'https://shop.example.by/', 'c-1', 'salt', 5000 );
		$this->assertStringStartsWith( 'https://shop.example.by/?relay-sms-cart=c-1&relay-sms-exp=5000&relay-sms-key=', $url );
		parse_str( parse_url( $url, PHP_URL_QUERY ), $query );
		$key = $query['relay-sms-key'];
		$this->assertSame( 'ok', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 4999, 'reported' ) );
		$this->assertSame( 'ok', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 5000, 'open' ) );
		$this->assertSame( 'expired', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 5001, 'reported' ) );
		$this->assertSame( 'invalid', Relay_SMS_Abandonment::check_link( 'c-1', '9999', $key, 'salt', 10, 'reported' ), 'the expiry is signed' );
		$this->assertSame( 'invalid', Relay_SMS_Abandonment::check_link( 'c-2', '5000', $key, 'salt', 10, 'reported' ) );
		$this->assertSame( 'invalid', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'other', 10, 'reported' ) );
		$this->assertSame( 'invalid', Relay_SMS_Abandonment::check_link( 'c-1', '5000', null, 'salt', 10, 'reported' ) );
		$this->assertSame( 'invalid', Relay_SMS_Abandonment::check_link( 'c-1', 'x', $key, 'salt', 10, 'reported' ) );
		$this->assertSame( 'ordered', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 10, 'converted' ) );
		$this->assertSame( 'ordered', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 10, 'recovered' ) );
		$this->assertSame( 'missing', Relay_SMS_Abandonment::check_link( 'c-1', '5000', $key, 'salt', 10, null ) );
	}

	public function test_only_an_invalid_event_is_discarded_everything_else_is_retried() {
		$this->assertSame( 'done', Relay_SMS_Abandonment::outcome( 202 ) );
		$this->assertSame( 'done', Relay_SMS_Abandonment::outcome( 200 ) );
		$this->assertSame( 'retry', Relay_SMS_Abandonment::outcome( 200, false ), 'a 200 that is not the relay (a web page) is not a delivery' );
		foreach ( array( 400, 413, 422 ) as $status ) {
			$this->assertSame( 'discard', Relay_SMS_Abandonment::outcome( $status ), (string) $status );
		}
		$this->assertSame( 'conflict', Relay_SMS_Abandonment::outcome( 409 ) );
		foreach ( array( null, 301, 302, 401, 403, 404, 405, 408, 429, 500, 502, 503, 504 ) as $status ) {
			$this->assertSame( 'retry', Relay_SMS_Abandonment::outcome( $status ), (string) $status );
		}
	}

	public function test_backoff_doubles_to_an_hour_and_honours_retry_after() {
		$this->assertSame( array( 60, 120, 240, 480, 960, 1920, 3600, 3600 ), array_map( array( 'Relay_SMS_Abandonment', 'backoff' ), range( 1, 8 ) ) );
		$this->assertSame( 600, Relay_SMS_Abandonment::backoff( 1, 600 ) );
		$this->assertSame( 3600, Relay_SMS_Abandonment::backoff( 9, 30 ) );
		$this->assertSame( 86400, Relay_SMS_Abandonment::backoff( 1, 10 ** 9 ) );
	}
}

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

	public function test_recovery_link_is_signed() {
		$url = Relay_SMS_Abandonment::recovery_url( 'https://shop.example.by/', 'c-1', 'salt' );
		$this->assertStringStartsWith( 'https://shop.example.by/?relay-sms-cart=c-1&relay-sms-key=', $url );
		parse_str( parse_url( $url, PHP_URL_QUERY ), $query );
		$this->assertTrue( Relay_SMS_Abandonment::valid_key( 'c-1', $query['relay-sms-key'], 'salt' ) );
		$this->assertFalse( Relay_SMS_Abandonment::valid_key( 'c-2', $query['relay-sms-key'], 'salt' ) );
		$this->assertFalse( Relay_SMS_Abandonment::valid_key( 'c-1', $query['relay-sms-key'], 'other' ) );
		$this->assertFalse( Relay_SMS_Abandonment::valid_key( 'c-1', null, 'salt' ) );
	}

	public function test_outbox_outcomes() {
		$this->assertSame( 'done', Relay_SMS_Abandonment::outcome( 202 ) );
		$this->assertSame( 'done', Relay_SMS_Abandonment::outcome( 200 ) );
		$this->assertSame( 'drop', Relay_SMS_Abandonment::outcome( 422 ) );
		$this->assertSame( 'drop', Relay_SMS_Abandonment::outcome( 409 ) );
		$this->assertSame( 'retry', Relay_SMS_Abandonment::outcome( 429 ) );
		$this->assertSame( 'retry', Relay_SMS_Abandonment::outcome( 503 ) );
		$this->assertSame( 'retry', Relay_SMS_Abandonment::outcome( null ) );
	}
}
